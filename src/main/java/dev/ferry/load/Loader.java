package dev.ferry.load;

import dev.ferry.deployment.StageException;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState.Built;
import dev.ferry.deployment.Transitions;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Consumes {@code ferry.load}: checks a built deployment's bytecode against the
 * {@link BytecodePolicy}, gives it its own classloader and finds its entry.
 */
public final class Loader extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Loader.class);

  private final Transitions transitions;
  private final DeploymentLog deploymentLog;
  private final BytecodePolicy policy;
  private final Resources resources;

  public Loader(Transitions transitions, DeploymentLog deploymentLog, BytecodePolicy policy, Resources resources) {
    this.resources = resources;
    this.transitions = transitions;
    this.deploymentLog = deploymentLog;
    this.policy = policy;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<Deployment>consumer(Addresses.LOAD, this::onBuilt).completion();
  }

  private void onBuilt(Message<Deployment> msg) {
    Deployment d = msg.body();
    if (!(d.state() instanceof Built built)) {
      log.error("Loader got {} in state {}", d.id(), d.state().name());
      return;
    }
    vertx.executeBlocking(() -> load(d, built.artifact()), false).onComplete(ar -> {
      if (ar.succeeded()) {
        deploymentLog.info(d.id(), "load", "Entry verticle: " + ar.result().verticle());
        Deployment loaded = transitions.publish(d, built.loaded(ar.result().loader(), ar.result().verticle(), ar.result().resources()));
        vertx.eventBus().send(Addresses.RUN, loaded);
      } else {
        Throwable e = ar.cause();
        if (!(e instanceof StageException)) log.error("Load of {} failed unexpectedly", d.id(), e);
        deploymentLog.error(d.id(), "load", String.valueOf(e.getMessage()));
        transitions.publish(d, built.failed("load", e instanceof StageException ? e.getMessage() : "Internal load failure: " + e));
      }
    });
  }

  private record Result(ServiceClassLoader loader, String verticle, JsonObject resources) {
  }

  private Result load(Deployment d, Artifact artifact) throws StageException {
    String service = d.service();
    List<Path> jars = new ArrayList<>();
    jars.add(artifact.jar());
    jars.addAll(artifact.dependencies());
    // the service's own classes: libraries it bundles (FreeMarker has Runtime.exec) are the author's choice
    policy.check(List.of(artifact.jar()));
    ServiceClassLoader loader = new ServiceClassLoader(service, jars, Loader.class.getClassLoader());
    try {
      String entry = EntryFinder.find(loader, artifact.jar(), artifact.entry());
      // what the entry declares (@Postgres, @Secret): provisioned now, handed over in its config
      JsonObject provided = resources.provide(service, d.id(), artifact.jar(), entry, line -> deploymentLog.info(d.id(), "resources", line));
      return new Result(loader, entry, provided);
    } catch (StageException | RuntimeException e) {
      close(loader);
      throw e;
    }
  }

  /** Closes a loader's jars; the loader itself goes once nothing refers to it. */
  public static void close(ClassLoader loader) {
    if (loader instanceof ServiceClassLoader s) {
      try {
        s.close();
      } catch (IOException e) {
        log.warn("Could not close {}", s, e);
      }
    }
  }
}
