package dev.ferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * What Linux's {@code /proc} says of processes: CPU time, resident and proportional memory, threads.
 * A runner is a process tree (in the sandbox: bubblewrap, then the runner's JVM): {@link #tree}
 * counts them all.
 */
final class Procs {

  /** Linux's clock ticks per second for {@code /proc/<pid>/stat} times (USER_HZ). */
  private static final double TICKS = 100.0;

  private Procs() {
  }

  /** {@code pids} and every process below them, once each. */
  static java.util.List<Long> tree(Collection<Long> pids) {
    java.util.Set<Long> all = new java.util.LinkedHashSet<>(pids);
    for (long pid : pids) ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> all.add(d.pid())));
    return java.util.List.copyOf(all);
  }

  /** User + system CPU seconds {@code pids} have used so far, all their threads (a gone process counts 0). */
  static double cpuSeconds(Collection<Long> pids) {
    double s = 0;
    for (long pid : pids) s += cpuSeconds(pid);
    return s;
  }

  static double cpuSeconds(long pid) {
    try {
      return cpuSeconds(Files.readString(Path.of("/proc", String.valueOf(pid), "stat")));
    } catch (IOException | RuntimeException gone) {
      return 0;
    }
  }

  /** CPU seconds the JIT compiler threads of {@code pids} (JVMs) have used so far (a gone process counts 0). */
  static double jitSeconds(Collection<Long> pids) {
    double s = 0;
    for (long pid : pids) {
      try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
        for (Path task : tasks.toList()) {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          if (!name.startsWith("C1 Compiler") && !name.startsWith("C2 Compiler")) continue;
          s += cpuSeconds(stat);
        }
      } catch (IOException | RuntimeException gone) {
        // gone, or a thread gone while read
      }
    }
    return s;
  }

  /** User + system CPU seconds of a process's or thread's {@code stat} line. */
  private static double cpuSeconds(String stat) {
    // the command may hold spaces and parentheses: fields count from the last ')'
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
  }

  /** Resident memory in bytes ({@code VmRSS}). */
  static long rss(long pid) {
    return statusKib(pid, "VmRSS:") * 1024;
  }

  /** Threads of the process ({@code Threads} in its status). */
  static long threads(long pid) {
    return statusKib(pid, "Threads:");
  }

  /**
   * Proportional set size in bytes: resident memory with each page shared by n processes counted
   * 1/n (what the class-data-sharing archive and the JDK's own files cost each runner).
   */
  static long pss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "smaps_rollup"))) {
        if (line.startsWith("Pss:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException | RuntimeException gone) {
      // not Linux, or gone
    }
    return 0;
  }

  private static long statusKib(long pid, String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
        if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException | RuntimeException gone) {
      // not Linux, or gone
    }
    return 0;
  }
}
