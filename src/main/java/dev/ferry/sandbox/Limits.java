package dev.ferry.sandbox;

import dev.ferry.deployment.RunSettings;
import dev.ferry.settings.BuildConfig;
import dev.ferry.settings.RunConfig;
import io.vertx.core.json.JsonObject;

/**
 * The limits of one sandboxed process: its heap ({@code -Xmx}, the JVM's own), its resident memory
 * (a cgroup), the size of its {@code /tmp} (a tmpfs, and the largest file it may write), its
 * processes and threads, its open files and its CPU weight.
 */
public record Limits(int heapMb, int rssMb, int tmpMb, int maxProcesses, int maxOpenFiles, int cpuShares) {

  /** What a resident-memory limit of 0 means: the heap twice (heap, direct buffers, metaspace, code), {@code /tmp}, and this. */
  static final int RSS_OVERHEAD_MB = 128;
  /** No process limit of its own: without a pids cgroup, no {@code RLIMIT_NPROC} is set (the sandbox's probe). */
  static final int NO_PROCESS_LIMIT = Integer.MAX_VALUE;

  public Limits {
    if (heapMb <= 0 || rssMb <= 0 || tmpMb <= 0 || maxProcesses <= 0 || maxOpenFiles <= 0 || cpuShares <= 0) {
      throw new IllegalArgumentException("every limit is positive: " + this);
    }
  }

  /** The limits of a runner of its own for a service that asks for {@code settings}: the config's, where it asks nothing. */
  public static Limits runner(RunConfig config, RunSettings settings) {
    int heap = settings.memoryMb().orElse(config.memoryMb());
    int tmp = settings.tmpMb().orElse(config.tmpMb());
    int rss = settings.rssMb().orElse(config.rssMb());
    return new Limits(heap, rss > 0 ? rss : derivedRss(heap, tmp), tmp, settings.maxProcesses().orElse(config.maxProcesses()),
        settings.maxOpenFiles().orElse(config.maxOpenFiles()), settings.cpuShares().orElse(config.cpuShares()));
  }

  /** The shared runner's: its heap is {@code run.sharedMemoryMb}; the rest are the config's. */
  public static Limits sharedRunner(RunConfig config) {
    int heap = config.sharedMemoryMb();
    return new Limits(heap, config.rssMb() > 0 ? Math.max(config.rssMb(), derivedRss(heap, config.tmpMb())) : derivedRss(heap, config.tmpMb()),
        config.tmpMb(), config.maxProcesses(), config.maxOpenFiles(), config.cpuShares());
  }

  /** The compiler process of a build that runs annotation processors. */
  public static Limits build(BuildConfig build, RunConfig run) {
    return new Limits(build.memoryMb(), derivedRss(build.memoryMb(), build.tmpMb()), build.tmpMb(),
        run.maxProcesses(), run.maxOpenFiles(), run.cpuShares());
  }

  static int derivedRss(int heapMb, int tmpMb) {
    return 2 * heapMb + tmpMb + RSS_OVERHEAD_MB;
  }

  public JsonObject toJson() {
    return new JsonObject().put("heapMb", heapMb).put("rssMb", rssMb).put("tmpMb", tmpMb).put("maxProcesses", maxProcesses)
        .put("maxOpenFiles", maxOpenFiles).put("cpuShares", cpuShares);
  }
}
