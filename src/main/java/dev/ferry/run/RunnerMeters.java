package dev.ferry.run;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runners' meters, read by the control plane from {@code /proc} (a runner cannot forge them):
 * {@code ferry_runner_memory_rss_bytes{service}} and {@code ferry_runner_cpu_seconds_total{service}}
 * of the runner serving each service, {@code ferry_runner_restarts_total{service}}, and
 * {@code ferry_runners} (runner processes alive, warm ones included), {@code ferry_sleeps_total{service}}
 * and {@code ferry_wake_duration_seconds{service}}.
 */
final class RunnerMeters {

  /** Linux's clock ticks per second for {@code /proc/<pid>/stat} times (USER_HZ, 100 on every mainstream kernel). */
  private static final double TICKS = 100.0;

  final MeterRegistry registry;
  private final ServiceRuntime runtime;
  private final Set<String> tracked = ConcurrentHashMap.newKeySet();

  RunnerMeters(MeterRegistry registry, ServiceRuntime runtime) {
    this.registry = registry;
    this.runtime = runtime;
    Gauge.builder("ferry.runners", runtime, rt -> rt.runners().alive().size())
        .description("Runner processes alive, idle warm ones included").register(registry);
  }

  /** Registers the meters of {@code service} (once). */
  void track(String service) {
    if (!tracked.add(service)) return;
    Gauge.builder("ferry.runner.memory.rss", this, m -> m.rss(service)).baseUnit("bytes")
        .description("Resident memory of the runner serving the service").tag("service", service).register(registry);
    FunctionCounter.builder("ferry.runner.cpu", this, m -> m.cpuSeconds(service)).baseUnit("seconds")
        .description("CPU time of the runner serving the service (its current runner)").tag("service", service).register(registry);
  }

  static void slept(ServiceRuntime runtime, String service) {
    Counter.builder("ferry.sleeps").description("Times a service was put to sleep after run.idleTimeoutMs without a request")
        .tag("service", service).register(runtime.meters().registry).increment();
  }

  /** A request woke {@code service}: from the request's arrival to the service routed again. */
  static void woke(ServiceRuntime runtime, String service, long nanos) {
    io.micrometer.core.instrument.Timer.builder("ferry.wake.duration").description("Time from a request for a sleeping service to it serving again")
        .tag("service", service).publishPercentileHistogram().register(runtime.meters().registry)
        .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  static void restarted(ServiceRuntime runtime, String service) {
    Counter.builder("ferry.runner.restarts").description("Times a service's runner was restarted after a crash")
        .tag("service", service).register(runtime.meters().registry).increment();
  }

  private long pidOf(String service) {
    for (Running r : runtime.running().values()) {
      if (r.serving && r.deployment.service().equals(service) && r.runner != null) return r.runner.pid();
    }
    return -1;
  }

  private double rss(String service) {
    long pid = pidOf(service);
    if (pid < 0) return Double.NaN;
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024.0;
      }
    } catch (IOException | RuntimeException gone) {
      // not Linux, or the runner just ended
    }
    return Double.NaN;
  }

  private double cpuSeconds(String service) {
    long pid = pidOf(service);
    if (pid < 0) return 0;
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      // fields after the command name, which is in parentheses and may hold spaces
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
    } catch (IOException | RuntimeException gone) {
      return 0;
    }
  }
}
