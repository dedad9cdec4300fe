package dev.ferry.proxy;

import dev.ferry.Meters;
import io.micrometer.core.instrument.FunctionCounter;
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
  /** Meters by service, built once per status class: a registry lookup is too dear per request. */
  private final Map<String, PerService> services = new ConcurrentHashMap<>();

  /** Per status class: the latency histogram; {@code ferry_proxy_requests_total} reads its count (nothing more per request). */
  private record Pair(Timer duration) {
  }

  /** One service's meters, by status class (index: status / 100, 0 for anything else); kept on its backends. */
  static final class PerService {
    final String service;
    final Pair[] byClass = new Pair[6];

    PerService(String service) {
      this.service = service;
    }
  }

  ProxyMeters(MeterRegistry registry, Routes routes) {
    this.registry = registry;
    Gauge.builder("ferry.services.deployed", routes, Routes::size).description("Services that have a deployment taking traffic")
        .register(registry);
  }

  void record(Routes.Backend backend, String service, int status, long nanos) {
    PerService s = backend.meters;
    if (s == null) backend.meters = s = services.computeIfAbsent(service, PerService::new);
    int i = status < 100 || status > 599 ? 0 : status / 100;
    Pair m = s.byClass[i];
    if (m == null) {
      // two loops may both build it: the registry hands both the same meters
      String statusClass = Meters.statusClass(status);
      Timer timer = Timer.builder("ferry.proxy.request.duration").description("Time from request to the end of the response")
          .tag("service", service).tag("status", statusClass).publishPercentileHistogram().register(registry);
      FunctionCounter.builder("ferry.proxy.requests", timer, Timer::count).description("Requests proxied to services")
          .tag("service", service).tag("status", statusClass).register(registry);
      s.byClass[i] = m = new Pair(timer);
    }
    m.duration().record(nanos, TimeUnit.NANOSECONDS);
  }
}
