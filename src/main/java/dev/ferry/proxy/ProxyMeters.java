package dev.ferry.proxy;

import dev.ferry.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's meters: {@code ferry_proxy_requests_total} and the latency histogram
 * {@code ferry_proxy_request_duration_seconds}, by service and status class, and the gauge
 * {@code ferry_services_deployed} (services with a route).
 */
final class ProxyMeters {

  private final MeterRegistry registry;
  /** Meters by service and status class, built once: the registry lookup is too dear per request. */
  private final Map<String, Pair> meters = new ConcurrentHashMap<>();

  private record Pair(Counter requests, Timer duration) {
  }

  ProxyMeters(MeterRegistry registry, Routes routes) {
    this.registry = registry;
    Gauge.builder("ferry.services.deployed", routes, Routes::size).description("Services that have a deployment taking traffic")
        .register(registry);
  }

  void record(String service, int status, long nanos) {
    String statusClass = Meters.statusClass(status);
    Pair m = meters.computeIfAbsent(service + ' ' + statusClass, k -> new Pair(
        Counter.builder("ferry.proxy.requests").description("Requests proxied to services")
            .tag("service", service).tag("status", statusClass).register(registry),
        Timer.builder("ferry.proxy.request.duration").description("Time from request to the end of the response")
            .tag("service", service).tag("status", statusClass).publishPercentileHistogram().register(registry)));
    m.requests().increment();
    m.duration().record(nanos, TimeUnit.NANOSECONDS);
  }
}
