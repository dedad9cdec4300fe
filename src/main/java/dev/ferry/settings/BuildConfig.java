package dev.ferry.settings;

/**
 * The {@code build} section.
 *
 * @param concurrency builds at once; the rest wait queued, in order
 * @param queueCapacity deployments that may wait for or be in a build at once; past it an upload answers 503
 * @param memoryMb the heap of the compiler process that runs a build's annotation processors
 * @param timeoutMs how long that process may run before it is killed and the build fails
 * @param tmpMb the size of that process's {@code /tmp}, where it writes the classes
 */
public record BuildConfig(int concurrency, int queueCapacity, int memoryMb, long timeoutMs, int tmpMb) {

  public static final BuildConfig DEFAULTS = new BuildConfig(1, 64, 512, 300_000, 256);

  public BuildConfig {
    Check.positive("build.concurrency", concurrency);
    Check.positive("build.queueCapacity", queueCapacity);
    Check.positive("build.memoryMb", memoryMb);
    Check.positive("build.timeoutMs", timeoutMs);
    Check.positive("build.tmpMb", tmpMb);
  }
}
