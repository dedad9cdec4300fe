package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /metrics: Prometheus text with Ferry's meters, Vert.x's and the JVM's. */
@Tag("platform")
class MetricsTest {

  @Test
  void metrics_count_deployments_builds_proxy_requests_and_services_in_prometheus_format() {
    try (TestPlatform ferry = TestPlatform.start()) {
      assertEquals("deployed", ferry.deploy("hello", "metered").getString("state"));
      assertEquals("error", ferry.deploy("compile-error", "metered-broken").getString("state"));
      for (int i = 0; i < 3; i++) assertEquals(200, ferry.viaProxy("metered", "/x").statusCode());

      HttpResponse<Buffer> r = ferry.api(HttpMethod.GET, "/metrics");
      assertEquals(200, r.statusCode());
      assertTrue(r.getHeader("content-type").startsWith("text/plain"), r.getHeader("content-type"));
      String text = r.bodyAsString();
      assertEquals(1.0, value(text, "ferry_deployments_total\\{state=\"deployed\"\\}"), 0.0);
      assertEquals(1.0, value(text, "ferry_deployments_total\\{state=\"error\"\\}"), 0.0);
      assertEquals(2.0, value(text, "ferry_build_duration_seconds_count"), 0.0);
      assertEquals(1.0, value(text, "ferry_deploy_duration_seconds_count"), 0.0);
      assertEquals(3.0, value(text, "ferry_proxy_requests_total\\{service=\"metered\",status=\"2xx\"\\}"), 0.0);
      assertEquals(3.0, value(text, "ferry_proxy_request_duration_seconds_count\\{service=\"metered\",status=\"2xx\"\\}"), 0.0);
      assertTrue(text.contains("ferry_proxy_request_duration_seconds_bucket{service=\"metered\",status=\"2xx\",le="), "a latency histogram");
      assertEquals(1.0, value(text, "ferry_services_deployed"), 0.0);
      assertTrue(text.contains("vertx_eventbus_handlers"), "Vert.x metrics");
      assertTrue(text.contains("vertx_pool_"), "Vert.x worker pool metrics");
      // per-request HTTP meters are Ferry's own (ferry_proxy_*); Vert.x's are off for the proxy's sake
      assertTrue(!text.contains("vertx_http_server_requests_total"), "Vert.x per-request HTTP meters are off");
      assertTrue(text.contains("jvm_memory_used_bytes"), "JVM metrics");
      // each service's runner, read by the platform from /proc
      double rss = value(text, "ferry_runner_memory_rss_bytes\\{service=\"metered\"\\}");
      assertTrue(rss > 10e6 && rss < 1e9, "runner RSS " + rss);
      assertTrue(value(text, "ferry_runner_cpu_seconds_total\\{service=\"metered\"\\}") > 0, "runner CPU");
      assertTrue(value(text, "ferry_runners") >= 1, "runner processes");
    }
  }

  private static double value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + series + " ([0-9.eE+-]+)$").matcher(text);
    assertTrue(m.find(), series + " not in\n" + text.lines().filter(l -> l.startsWith("ferry_")).toList());
    return Double.parseDouble(m.group(1));
  }
}
