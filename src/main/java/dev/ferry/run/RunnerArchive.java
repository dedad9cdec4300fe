package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.deployment.RunSettings;
import dev.ferry.sandbox.Launch;
import dev.ferry.sandbox.Limits;
import dev.ferry.sandbox.Sandbox;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.ferry.run.Runners.OUT_LOG;

/**
 * The class-data-sharing archive runners start from: made once per runner classpath and JVM by a
 * training run, sandboxed as runners are, so it names the jars where runners see them.
 */
final class RunnerArchive {

  private static final Logger log = LoggerFactory.getLogger(Runners.class);

  private final Vertx vertx;
  private final RunConfig config;
  /** Where the archive is kept ({@code run.cacheDir}). */
  private final Path cacheDir;
  private final List<Path> classpath;
  private final Sandbox sandbox;

  RunnerArchive(Vertx vertx, RunConfig config, Path cacheDir, List<Path> classpath, Sandbox sandbox) {
    this.vertx = vertx;
    this.config = config;
    this.cacheDir = cacheDir;
    this.classpath = classpath;
    this.sandbox = sandbox;
  }

  /** The training run under way, if any: a platform that closes meanwhile ends it ({@link #cancel}). */
  private volatile Process training;

  /** Ends a training run under way: the platform is closing, and the archive is made on a later start. */
  void cancel() {
    Process p = training;
    if (p != null) Sandbox.kill(p);
  }

  /** Uses the archive of this runner classpath and JVM, making it first (a training run) if there is none. */
  Future<Path> prepare() {
    Path jsa;
    try {
      jsa = cacheDir.resolve("runner-" + fingerprint() + ".jsa");
    } catch (IOException e) {
      log.warn("No class-data-sharing archive for runners: {}", e.toString());
      return Future.succeededFuture(null);
    }
    if (Files.isRegularFile(jsa)) return Future.succeededFuture(jsa);
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> {
      Files.createDirectories(jsa.getParent());
      Path tmp = Files.createTempFile(jsa.getParent(), "runner", ".jsa.tmp");
      Files.delete(tmp);
      Path work = Files.createTempDirectory(jsa.getParent(), "train");
      String name = "train-" + ProcessHandle.current().pid() + "-" + Long.toString(System.nanoTime(), 36);
      try {
        // sandboxed as runners are, so the archive names the jars where runners see them
        Launch launch = sandbox.launch(name, Limits.runner(config, RunSettings.DEFAULT));
        List<String> cp = classpath.stream().map(j -> launch.readOnly(j, "cp")).toList();
        Path out = Files.createDirectories(work.resolve("out"));
        String archiveOut = launch.writableDir(out, "out") + "/runner.jsa";
        List<String> cmd = new ArrayList<>(RunnerJvm.options(sandbox.java(), config.memoryMb(), launch.tmp(work.resolve("tmp"))));
        cmd.addAll(List.of("-XX:ArchiveClassesAtExit=" + archiveOut, "-cp", String.join(java.io.File.pathSeparator, cp), RunnerLauncher.MAIN, "--train"));
        ProcessBuilder pb = new ProcessBuilder(launch.command(cmd)).directory(work.toFile()).redirectErrorStream(true)
            .redirectOutput(work.resolve(OUT_LOG).toFile());
        RunnerJvm.cleanEnvironment(pb, sandbox.sandboxed() ? "/tmp" : work.toString());
        Process p = pb.start();
        training = p;
        p.getOutputStream().close();
        Path made = out.resolve("runner.jsa");
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(made)) {
          Sandbox.kill(p);
          throw new IOException("the training run failed: " + RunnerLauncher.tail(work));
        }
        // a copy of the platform's own, readable by every runner
        Files.copy(made, tmp);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, jsa, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return jsa;
      } finally {
        training = null;
        sandbox.release(name);
        Files.deleteIfExists(tmp);
        Retention.deleteQuietly(work);
      }
    }, false).onSuccess(p -> {
      log.info("Runner class-data-sharing archive made in {} ms: {}", (System.nanoTime() - t0) / 1_000_000, p);
    }).recover(e -> {
      log.warn("No class-data-sharing archive for runners (they start slower): {}", e.toString());
      return Future.succeededFuture(null);
    });
  }

  /** Names the archive after what it depends on: the JVM and every jar of the classpath (path, size, time). */
  private String fingerprint() throws IOException {
    // sandboxed runners see the jars elsewhere than unsandboxed ones: an archive for each
    StringBuilder sb = new StringBuilder(System.getProperty("java.home")).append(System.getProperty("java.vm.version"))
        .append(sandbox.sandboxed() ? " sandboxed" : "");
    for (Path p : classpath) sb.append('\n').append(p).append(' ').append(Files.size(p)).append(' ').append(Files.getLastModifiedTime(p).toMillis());
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
