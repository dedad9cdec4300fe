package dev.ferry.run;

import dev.ferry.deployment.RunSettings;
import dev.ferry.sandbox.Limits;
import dev.ferry.sandbox.Sandbox;
import dev.ferry.settings.RunConfig;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The runner registry: a file per runner, {@code <dataDir>/runners/<id>/runner.json} (mode 0600: it
 * holds the runner's secret), which only control planes write (a runner sees none of it). A control
 * plane restarted on the same data dir finds the runners its predecessor left by it; and an idle
 * runner's entry holds a pool key until a control plane takes the runner for a service, so a later
 * one knows, whatever a service's code did inside a runner, which were never given one.
 */
final class RunnerRegistry {

  private static final Logger log = LoggerFactory.getLogger(RunnerRegistry.class);
  static final String FILE = "runner.json";

  private RunnerRegistry() {
  }

  /** Writes {@code entry} as runner {@code id}'s, in its directory {@code dir}. */
  static void write(Path dir, String id, JsonObject entry) {
    Path file = dir.resolve(FILE);
    try {
      Files.writeString(file, entry.encode());
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      log.warn("Could not write the registry entry of runner {}: {}", id, e.toString());
    }
  }

  /** The entry in {@code dir} without its pool key: written before its runner is given a service. */
  static void leavePool(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    JsonObject entry = new JsonObject(Files.readString(file));
    if (entry.remove("pool") != null) Files.writeString(file, entry.encode());
  }

  /**
   * What a process runner is launched as: its class path (the runner jar is named after its
   * content), JVM options, event loops, limits and sandbox. A runner a previous control plane left
   * idle joins this one's warm pool only if this one would launch it the same way now.
   */
  static String poolKey(List<Path> classpath, RunConfig config, int eventLoops, Limits limits, boolean sandboxed) {
    return classpath.stream().map(p -> p.getFileName().toString()).toList() + " " + config.jvmOptions() + " loops " + eventLoops
        + " " + limits.toJson().encode() + " sandboxed " + sandboxed;
  }

  /**
   * The entries under {@code root} (but for the runners in {@code skip}, this control plane's own)
   * whose processes are alive, each with its directory as {@code dir}. What is left of a runner whose
   * entry names processes gone, or cannot be read, is killed and deleted. Blocks.
   */
  static List<JsonObject> live(Path root, Set<String> skip, Sandbox sandbox) throws IOException {
    List<JsonObject> entries = new ArrayList<>();
    if (!Files.isDirectory(root)) return entries;
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.toList()) {
        if (skip.contains(dir.getFileName().toString())) continue;
        try {
          JsonObject e = new JsonObject(Files.readString(dir.resolve(FILE)));
          // only the very processes it names (their pids may belong to others since)
          Optional<ProcessHandle> launcher = Sandbox.process(e.getLong("pid", -1L), e.getLong("pidStart", -1L));
          Optional<ProcessHandle> jvm = Sandbox.process(e.getLong("jvm", -1L), e.getLong("jvmStart", -1L));
          if (launcher.isPresent() && jvm.isPresent() && e.getString("socket") != null) {
            entries.add(e.put("dir", dir.toString()));
          } else {
            // bubblewrap killed alone leaves its sandbox running: its JVM goes too
            launcher.ifPresent(Sandbox::killTree);
            jvm.ifPresent(Sandbox::killTree);
            sandbox.release(dir.getFileName().toString());
            Retention.deleteQuietly(dir);
          }
        } catch (IOException | RuntimeException unreadable) {
          Retention.deleteQuietly(dir);
        }
      }
    }
    return entries;
  }

  /** The limits {@code entry} says its runner was launched with; {@code config}'s defaults where it does not say. */
  static Limits limits(JsonObject entry, RunConfig config) {
    JsonObject l = entry.getJsonObject("limits");
    if (l == null) return Limits.runner(config, RunSettings.DEFAULT);
    try {
      return new Limits(l.getInteger("heapMb"), l.getInteger("rssMb"), l.getInteger("tmpMb"), l.getInteger("maxProcesses"),
          l.getInteger("maxOpenFiles"), l.getInteger("cpuShares"));
    } catch (RuntimeException e) {
      return Limits.runner(config, RunSettings.DEFAULT);
    }
  }
}
