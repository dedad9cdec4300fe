package dev.ferry.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A runner's JVM: how it is started, and where a sandboxed one is, found while it starts. */
final class RunnerJvm {

  private RunnerJvm() {
  }

  /**
   * The JVM under {@code bwrap}, the bubblewrap process the platform started: its grandchild
   * (bubblewrap, then the init of its pid namespace, then the JVM); null until it runs.
   */
  static ProcessHandle under(ProcessHandle bwrap) {
    return firstChild(bwrap).flatMap(RunnerJvm::firstChild).orElse(null);
  }

  /**
   * The first child of {@code p} (single-threaded: bubblewrap and its init), as the kernel lists it in
   * {@code /proc/<pid>/task/<pid>/children}. Polled while a runner starts, so not by
   * {@link ProcessHandle#children}, which reads every process's {@code /proc} entry: with a hundred
   * runners starting at once that blocked the runtime's event loop for seconds. That only where the
   * kernel does not list children.
   */
  private static Optional<ProcessHandle> firstChild(ProcessHandle p) {
    String pid = String.valueOf(p.pid());
    try {
      String children = Files.readString(Path.of("/proc", pid, "task", pid, "children")).trim();
      return children.isEmpty() ? Optional.empty() : ProcessHandle.of(Long.parseLong(children.split(" ")[0]));
    } catch (NoSuchFileException gone) {
      return p.isAlive() ? p.children().findFirst() : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return p.children().findFirst();
    }
  }

  /**
   * The command of a runner's JVM ({@code java}) with the options every runner gets: its heap, exit
   * on OOM, a lean GC, its own temp dir, no perf data file, no Netty JFR events, and an idle JVM
   * that wakes less (see {@link #quietMonitorDeflation}).
   *
   * <p>Not {@code -XX:Tier3LoadFeedback=0}: HotSpot divides by that value when it scales its
   * thresholds, and the NaN it gets turns off every C1 profiled compile (BENCHMARKS.md).
   */
  static List<String> options(String java, int memoryMb, String tmp) {
    List<String> options = new ArrayList<>(List.of(java, "-Xmx" + memoryMb + "m", "-Xms" + Math.min(memoryMb, 32) + "m",
        "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC", "-XX:ReservedCodeCacheSize=64m", "-XX:-UsePerfData", "-Xshare:auto",
        "-XX:ErrorFile=" + tmp + "/hs_err.log", "-Djava.io.tmpdir=" + tmp, "-Duser.home=" + tmp,
        "-Dvertx.cacheDirBase=" + tmp + "/vertx-cache", "-Djava.awt.headless=true", "-Dio.netty.jfr.enabled=false"));
    options.addAll(quietMonitorDeflation(Runtime.version().feature()));
    return options;
  }

  /**
   * HotSpot's monitor deflation thread wakes four times a second to see whether inflated monitors
   * pile up (-XX:AsyncDeflationInterval, 250 ms): 28 of the 46 ms of CPU an idle runner used every
   * 30 s. Once a second is enough (a service inflating monitors as fast as it can is checked on a
   * second later). The flag is diagnostic, so only for the JDKs it was checked on here (17 and 25;
   * it came in 15): on another, a runner JVM would refuse to start over an unknown option.
   */
  static List<String> quietMonitorDeflation(int jdkFeature) {
    return jdkFeature >= 17 && jdkFeature <= 25 ? List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:AsyncDeflationInterval=1000") : List.of();
  }

  /** A runner's environment holds nothing of the platform's: no token, no secrets, no JAVA_TOOL_OPTIONS. */
  static void cleanEnvironment(ProcessBuilder pb, String home) {
    Map<String, String> env = pb.environment();
    String path = env.getOrDefault("PATH", "/usr/bin:/bin");
    env.clear();
    env.put("PATH", path);
    env.put("LANG", "C.UTF-8");
    env.put("HOME", home);
  }
}
