package dev.ferry.settings;

import dev.ferry.deployment.RunSettings;

import java.nio.file.Path;
import java.util.List;

/**
 * The {@code run} section: how services' runners start, run, sleep and stop, and what confines them.
 *
 * @param startTimeoutMs a verticle must start and be ready within this; also how long the proxy holds a request for a service on its way
 * @param drainTimeoutMs how long a replaced deployment may finish in-flight requests, and may take to stop
 * @param threading how a service's verticle runs in its runner: {@code event-loop} (what Vert.x users expect; a blocking
 *     handler stalls only its own runner) or {@code worker} (on worker threads of its Vert.x)
 * @param isolation {@code process}: a runner JVM per service; {@code shared}: trusted services share one runner JVM, each on a Vert.x of its own
 * @param warmRunners idle runners started ahead, so a deploy, rollback or restart does not wait for a JVM to start
 * @param memoryMb the heap of a service's runner ({@code -Xmx}); a service's pom may ask for another ({@code ferry.memoryMb})
 * @param sharedMemoryMb the heap of the shared runner, which holds every service in {@code shared} isolation
 * @param portRange ports services are given ({@code FIRST-LAST}); outside Linux's default ephemeral range (32768-60999)
 * @param orphanGraceMs how long a runner keeps serving without its control plane (waiting to be re-adopted) before it exits
 * @param eventLoops event loops of each service's Vert.x in a runner of its own, or of a shared runner; 0: one per core
 * @param idleTimeoutMs a service that got no request for this long is put to sleep: its runner stopped (its verticle
 *     undeployed in a shared runner); the next request wakes it and is answered. 0: never
 * @param cds whether runners start from a class-data-sharing archive made on the first start (faster JVM start)
 * @param jvmOptions extra JVM options for every runner (say {@code -XX:+UseZGC}), after Ferry's own
 * @param cacheDir where the runner's jar and class-data-sharing archive are kept; null: {@code <dataDir>/cache}
 * @param sandbox what confines tenant code (runners, and builds that run annotation processors): {@code bwrap}
 *     (bubblewrap; the platform does not start without it) or {@code none} (no sandbox: only for code you would run
 *     in your own process; reported at start-up and on {@code /api/v1/info})
 * @param tmpMb the size of a runner's private, writable {@code /tmp} (a tmpfs), and the largest file it may write
 * @param rssMb a runner's resident memory (a cgroup limit); 0: twice its heap plus its {@code /tmp} plus 128 MB
 * @param maxProcesses processes and threads a runner may have at once (a {@code pids} cgroup, else {@code RLIMIT_NPROC})
 * @param maxOpenFiles files and sockets a runner may have open at once ({@code RLIMIT_NOFILE})
 * @param cpuShares a runner's CPU weight when the CPU is busy (cgroup {@code cpu.shares}): at 1024 it weighs as one busy thread
 */
public record RunConfig(long startTimeoutMs, long drainTimeoutMs, String threading, String isolation, int warmRunners,
    int memoryMb, int sharedMemoryMb, String portRange, long orphanGraceMs, int eventLoops, long idleTimeoutMs, boolean cds,
    List<String> jvmOptions, Path cacheDir, String sandbox, int tmpMb, int rssMb, int maxProcesses, int maxOpenFiles,
    int cpuShares) {

  public static final String EVENT_LOOP = "event-loop", WORKER = "worker", BWRAP = "bwrap", NONE = "none";

  public static final RunConfig DEFAULTS = new RunConfig(
      10_000, 5_000, EVENT_LOOP, RunSettings.PROCESS, 2,
      256, 1024, "20000-29999", 60_000, 0, 15 * 60_000, true,
      List.of(), null, BWRAP, 64, 0, 1024, 4096,
      1024);

  public RunConfig {
    Check.positive("run.startTimeoutMs", startTimeoutMs);
    drainTimeoutMs = Math.max(0, drainTimeoutMs);
    threading = Check.oneOf("run.threading", threading, WORKER, EVENT_LOOP);
    isolation = Check.oneOf("run.isolation", isolation, RunSettings.PROCESS, RunSettings.SHARED);
    Check.notNegative("run.warmRunners", warmRunners);
    Check.positive("run.memoryMb", memoryMb);
    Check.positive("run.sharedMemoryMb", sharedMemoryMb);
    ports(portRange);
    Check.positive("run.orphanGraceMs", orphanGraceMs);
    Check.notNegative("run.eventLoops", eventLoops);
    Check.notNegative("run.idleTimeoutMs", idleTimeoutMs);
    jvmOptions = List.copyOf(jvmOptions);
    sandbox = Check.oneOf("run.sandbox", sandbox, BWRAP, NONE);
    Check.positive("run.tmpMb", tmpMb);
    Check.notNegative("run.rssMb", rssMb);
    Check.positive("run.maxProcesses", maxProcesses);
    Check.positive("run.maxOpenFiles", maxOpenFiles);
    Check.between("run.cpuShares", cpuShares, 2, 262_144);
  }

  /** The first and last port of {@code portRange}. */
  public int[] ports() {
    return ports(portRange);
  }

  private static int[] ports(String spec) {
    String[] parts = Check.present("run.portRange", spec).trim().split("\\s*-\\s*");
    try {
      if (parts.length == 2) {
        int first = Integer.parseInt(parts[0]), last = Integer.parseInt(parts[1]);
        if (first < 1024 || last > 65535 || first > last) {
          throw new IllegalArgumentException("run.portRange must be FIRST-LAST within 1024-65535, not " + spec);
        }
        return new int[] {first, last};
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("run.portRange must look like 20000-29999, not " + spec);
  }
}
