package dev.ferry.proxy;

import dev.ferry.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * The proxy's meters: {@code ferry_proxy_requests_total} and the latency histogram
 * {@code ferry_proxy_request_duration_seconds}, by service and status class, and the gauge
 * {@code ferry_services_deployed} (services with a route).
 */
final class ProxyMeters {

  private final MeterRegistry registry;

  ProxyMeters(MeterRegistry registry, Routes routes) {
    this.registry = registry;
    Gauge.builder("ferry.services.deployed", routes, Routes::size).description("Services that have a deployment taking traffic")
        .register(registry);
  }

  void record(String service, int status, long nanos) {
    String statusClass = Meters.statusClass(status);
    Counter.builder("ferry.proxy.requests").description("Requests proxied to services")
        .tag("service", service).tag("status", statusClass).register(registry).increment();
    Timer.builder("ferry.proxy.request.duration").description("Time from request to the end of the response")
        .tag("service", service).tag("status", statusClass).publishPercentileHistogram()
        .register(registry).record(nanos, TimeUnit.NANOSECONDS);
  }
}
