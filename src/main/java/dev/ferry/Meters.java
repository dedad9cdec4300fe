package dev.ferry;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import dev.ferry.common.VertxInternals;
import io.vertx.micrometer.impl.MicrometerMetrics;

import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Where the platform's meters live: one Prometheus registry per Vert.x (see {@link Platform#newVertx()}),
 * holding Vert.x's own metrics (HTTP, event bus, pools), the JVM's, and Ferry's {@code ferry_*} meters.
 */
public final class Meters {

  /** Registries of Vert.x instances made without {@link Platform#newVertx()}: Ferry's meters only. */
  private static final Map<Vertx, PrometheusMeterRegistry> FALLBACK = new WeakHashMap<>();

  private Meters() {
  }

  /** The Prometheus registry of {@code vertx}. */
  public static PrometheusMeterRegistry registry(Vertx vertx) {
    if (VertxInternals.metrics(vertx) instanceof MicrometerMetrics m
        && m.registry() instanceof PrometheusMeterRegistry p) {
      return p;
    }
    synchronized (FALLBACK) {
      return FALLBACK.computeIfAbsent(vertx, v -> new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }
  }

  /**
   * The JVM's meters (the set Vert.x binds with {@code jvmMetricsEnabled}: classes, JIT, GC, heap
   * pressure, info, memory, threads, CPU, uptime) bound to {@code registry}; closing it removes
   * the GC listeners they hold.
   */
  public static AutoCloseable bindJvm(MeterRegistry registry) {
    List<MeterBinder> binders = List.of(new ClassLoaderMetrics(), new JvmCompilationMetrics(), new JvmGcMetrics(), new JvmHeapPressureMetrics(),
        new JvmInfoMetrics(), new JvmMemoryMetrics(), new JvmThreadMetrics(), new ProcessorMetrics(), new UptimeMetrics());
    binders.forEach(b -> b.bindTo(registry));
    return () -> {
      for (MeterBinder b : binders) {
        if (b instanceof AutoCloseable c) c.close();
      }
    };
  }

  /** {@code 2xx}, {@code 4xx}...: a status code's class, as a low-cardinality tag. */
  public static String statusClass(int status) {
    return status < 100 || status > 599 ? "unknown" : (status / 100) + "xx";
  }
}
