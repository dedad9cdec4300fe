package dev.ferry;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import dev.ferry.common.VertxInternals;
import io.vertx.micrometer.impl.MicrometerMetrics;

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

  /** {@code 2xx}, {@code 4xx}...: a status code's class, as a low-cardinality tag. */
  public static String statusClass(int status) {
    return status < 100 || status > 599 ? "unknown" : (status / 100) + "xx";
  }
}
