package dev.ferry.builder;

import dev.ferry.deployment.StageException;
import dev.ferry.DataDir;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState.Queued;
import dev.ferry.deployment.Transitions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Consumes {@code ferry.build}: turns a queued deployment into a built one on a worker pool of
 * {@code build.concurrency} threads (the rest wait, in order), then sends it to the loader.
 */
public final class Builder extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Builder.class);

  private final DataDir dataDir;
  private final Transitions transitions;
  private final DeploymentLog buildLog;
  private final SafeExtractor extractor;
  private final ServiceCompiler compiler;
  private final DependencyResolver resolver;
  private final int concurrency;
  private final BuildQueue queue;
  private WorkerExecutor workers;
  private io.micrometer.core.instrument.Timer buildDuration;
  private BuildCache cache;

  public Builder(DataDir dataDir, Transitions transitions, DeploymentLog buildLog, SafeExtractor extractor, ServiceCompiler compiler,
                 DependencyResolver resolver, int concurrency, BuildQueue queue) {
    this.queue = queue;
    this.dataDir = dataDir;
    this.transitions = transitions;
    this.buildLog = buildLog;
    this.extractor = extractor;
    this.compiler = compiler;
    this.resolver = resolver;
    this.concurrency = concurrency;
  }

  /** Reuses earlier artifacts of the same source through {@code cache}. */
  public Builder withCache(BuildCache cache) {
    this.cache = cache;
    return this;
  }

  @Override
  public Future<?> start() {
    buildDuration = io.micrometer.core.instrument.Timer.builder("ferry.build.duration")
        .description("Extract, compile and pack, successful or not").register(dev.ferry.Meters.registry(vertx));
    workers = vertx.createSharedWorkerExecutor("ferry-build", concurrency, 10, TimeUnit.MINUTES);
    return Future.all(
        vertx.eventBus().<Deployment>consumer(Addresses.BUILD, this::onQueued).completion(),
        vertx.eventBus().consumer(Addresses.ADMIT, msg -> {
          if (queue.tryEnter()) msg.reply(null);
          else msg.fail(Addresses.FULL, queue.size() + " deployments are waiting for a build (build.queueCapacity " + queue.capacity() + ")");
        }).completion(),
        vertx.eventBus().consumer(Addresses.LEAVE, msg -> queue.leave()).completion());
  }

  @Override
  public Future<?> stop() {
    return workers.close();
  }

  private void onQueued(Message<Deployment> msg) {
    Deployment d = msg.body();
    if (!(d.state() instanceof Queued queued)) {
      log.error("Builder got {} in state {}", d.id(), d.state().name());
      queue.leave();
      return;
    }
    workers.executeBlocking(() -> build(d, queued), false).onComplete(ar -> {
      queue.leave();
      if (ar.succeeded()) {
        Deployment built = transitions.publish(d, queued.built(ar.result()));
        vertx.eventBus().send(Addresses.LOAD, built);
      } else {
        Throwable e = ar.cause();
        if (!(e instanceof StageException)) log.error("Build of {} failed unexpectedly", d.id(), e);
        String message = e instanceof StageException ? e.getMessage() : "Internal build failure: " + e;
        (e instanceof StageException s ? s.logLines() : message.lines().toList()).forEach(l -> buildLog.error(d.id(), "build", l));
        transitions.publish(d, queued.failed("build", message));
      }
    });
  }

  /** Extract, resolve the pom, compile, copy resources, pack. Runs on a worker thread. */
  private Artifact build(Deployment d, Queued queued) throws StageException {
    long t0 = System.nanoTime();
    Path work = dataDir.build(d.id());
    Path src = work.resolve("src");
    Path classes = work.resolve("classes");
    try {
      deleteTree(work);
      buildLog.info(d.id(), "extract", "Extracting the upload");
      long bytes = extractor.extract(queued.archive(), src);
      buildLog.info(d.id(), "extract", "Extracted " + bytes + " bytes");
      if (!Files.isDirectory(src.resolve("src/main/java"))) {
        throw new StageException("The archive has no src/main/java directory (expected a Maven layout: src/main/java/**)");
      }
      String sourceHash = BuildCache.hash(src);
      Optional<BuildCache.Hit> hit = cache == null ? Optional.empty() : cache.find(sourceHash);
      if (hit.isPresent()) {
        // the same tree, pom included: the same dependencies, which the cached artifact names
        Path jar = dataDir.artifact(d.service(), d.id());
        BuildCache.copy(hit.get().artifact().jar(), jar);
        buildLog.info(d.id(), "build", "Source unchanged since deployment " + hit.get().deploymentId() + " (sha256 "
            + sourceHash.substring(0, 12) + "): reusing its artifact, nothing compiled");
        return hit.get().artifact().at(jar);
      }
      Resolution resolution = resolver.resolve(src, (level, line) -> buildLog.line(d.id(), level, "resolve", line));
      buildLog.info(d.id(), "compile", "Compiling src/main/java for Java " + resolution.release()
          + (resolution.classpath().isEmpty() ? "" : " with " + resolution.classpath().size() + " dependencies"));
      compiler.compile(src, classes, resolution).forEach(w -> buildLog.warn(d.id(), "compile", w));
      copyResources(src.resolve("src/main/resources"), classes);
      Path jar = dataDir.artifact(d.service(), d.id());
      String sha = Packer.pack(classes, jar);
      buildLog.info(d.id(), "package", "Packed artifact " + jar.getFileName() + " (sha256 " + sha.substring(0, 12) + ")");
      log.info("Built {} ({}) in {} ms", d.service(), d.id(), (System.nanoTime() - t0) / 1_000_000);
      return new Artifact(jar, resolution.bundled(), sha, resolution.mainVerticle())
          .with(sourceHash, resolution.readinessPath().orElse(null), resolution.settings());
    } catch (IOException e) {
      throw new StageException("Build failed: " + e, e);
    } finally {
      buildDuration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
      try {
        Files.deleteIfExists(queued.archive());
      } catch (IOException e) {
        log.warn("Could not delete upload {}", queued.archive(), e);
      }
    }
  }

  private static void copyResources(Path from, Path to) throws IOException {
    if (!Files.isDirectory(from)) return;
    List<Path> files;
    try (Stream<Path> s = Files.walk(from)) {
      files = s.filter(Files::isRegularFile).toList();
    }
    for (Path f : files) {
      Path dest = to.resolve(from.relativize(f).toString());
      Files.createDirectories(dest.getParent());
      Files.copy(f, dest, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
