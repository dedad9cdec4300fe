package dev.ferry;

import ch.qos.logback.classic.Level;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.proxy.Proxy;
import dev.ferry.run.ServiceRuntime;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Services that fail, block, throw or leave threads behind: each case runs while a healthy service
 * is under steady requests through the proxy, and that service must not see one failure.
 */
@Tag("platform")
class MisbehavingServicesTest {

  static final long PROXY_TIMEOUT_MS = 1_000;
  /** Short, for the starts that never finish; long enough for a start on a loaded 2-core machine. */
  static final long START_TIMEOUT_MS = 3_000;
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("run.startTimeoutMs", START_TIMEOUT_MS).with("proxy.timeoutMs", PROXY_TIMEOUT_MS));
  static SteadyLoad load;

  @BeforeAll
  static void deployTheBystander() {
    assertEquals("deployed", ferry.deploy("hello", "bystander").getString("state"));
  }

  @BeforeEach
  void startLoad() {
    load = new SteadyLoad(ferry, "bystander");
  }

  @AfterEach
  void theBystanderNeverNoticed() {
    SteadyLoad.Result r = load.stop();
    assertTrue(r.ok() > 0, "the bystander was under load: " + r);
    assertEquals(0, r.failed(), "the bystander failed requests: " + r);
  }

  @Test
  void a_start_that_throws_hangs_or_opens_no_server_ends_in_error_with_the_cause_and_the_previous_version_serves() {
    String serving = ferry.deploy("hello", "victim").getString("id");
    int running = ferry.platform.runtime().runningCount();
    Map<String, List<String>> causes = Map.of(
        "fails-on-start", List.of("fixture.fails.FailsOnStart failed to start", "database password missing"),
        "never-starts", List.of("did not finish starting within " + START_TIMEOUT_MS + " ms"),
        "no-server", List.of("opened no server within " + START_TIMEOUT_MS + " ms"));
    causes.forEach((fixture, expected) -> {
      JsonObject d = ferry.deploy(fixture, "victim");
      assertEquals("error", d.getString("state"), d.encodePrettily());
      assertEquals("deploy", d.getString("stage"), d.encodePrettily());
      for (String part : expected) assertTrue(d.getString("error").contains(part), fixture + ": " + d.getString("error"));
      assertEquals(serving, ferry.viaProxy("victim", "/").bodyAsJsonObject().getString("deployment"), fixture);
      assertEquals(serving, ferry.api(HttpMethod.GET, "/api/v1/services/victim").bodyAsJsonObject()
          .getJsonObject("current").getString("id"), fixture);
    });
    ferry.awaitRunning(running);
  }

  @Test
  void a_port_taken_before_the_bind_is_tried_once_more_on_another_port_in_a_fresh_runner() {
    JsonObject d = ferry.deploy("port-thief", "thief");
    assertEquals("error", d.getString("state"), d.encodePrettily());
    assertTrue(d.getString("error").contains("Could not listen on port"), d.getString("error"));
    String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + d.getString("id") + "/logs").bodyAsString();
    assertEquals(1, log.lines().filter(l -> l.contains("was taken by another process; starting again on port")).count(), log);
  }

  @Test
  void exit_halt_and_starting_processes_are_refused_at_load_naming_the_class_and_the_call() {
    Map<String, String> calls = Map.of(
        "calls-exit", "fixture.exit.Quitter calls java.lang.System.exit",
        "halts-by-reference", "calls java.lang.Runtime.halt",
        "runs-process", "calls java.lang.ProcessBuilder.start");
    calls.forEach((fixture, expected) -> {
      JsonObject d = ferry.deploy(fixture, "caller");
      assertEquals("error", d.getString("state"), d.encodePrettily());
      assertEquals("load", d.getString("stage"), d.encodePrettily());
      assertTrue(d.getString("error").contains(expected), fixture + ": " + d.getString("error"));
    });
  }

  @Test
  void timers_a_service_leaves_running_end_with_its_runner_when_it_is_deleted() throws Exception {
    String id = ferry.deploy("starts-timers", "ticker").getString("id");
    long ticks = Long.parseLong(ferry.viaProxy("ticker", "/").bodyAsString());
    TestPlatform.sleep(100);
    assertTrue(Long.parseLong(ferry.viaProxy("ticker", "/").bodyAsString()) > ticks, "its periodic timer runs");
    long pid = ferry.platform.runtime().runnerOf(id).orElseThrow().pid();
    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/ticker").statusCode());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "its runner (pid " + pid + ") is gone after delete");
  }

  @Test
  void a_handler_that_blocks_its_thread_is_answered_504_within_the_bound_and_the_warning_names_the_service() {
    String id = ferry.deploy("misbehaves", "blocker").getString("id");
    try (LogCapture proxyLog = LogCapture.of(Proxy.class); LogCapture runtimeLog = LogCapture.of(ServiceRuntime.class)) {
      long t0 = System.nanoTime();
      HttpResponse<Buffer> r = ferry.viaProxy("blocker", "/block");
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(504, r.statusCode(), r.bodyAsString());
      assertEquals("gateway_timeout", r.bodyAsJsonObject().getString("error"));
      assertTrue(r.bodyAsJsonObject().getString("message").contains("blocker"), r.bodyAsString());
      // bounded by the configured timeout, not by the handler (which blocks for 20 s)
      assertTrue(tookMs >= PROXY_TIMEOUT_MS && tookMs < PROXY_TIMEOUT_MS + 5_000, "504 after " + tookMs + " ms");
      assertTrue(proxyLog.count(Level.WARN, "blocker") > 0, "a warning naming the service: " + proxyLog);
      // while it is stuck, the platform and the other services answer at once
      assertEquals(200, ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", "/health").send().await().statusCode());
      assertEquals(200, ferry.viaProxy("bystander", "/").statusCode());
      // Vert.x's blocked-thread warning of its runner goes to its deployment's log, and names the service in the platform's
      long deadline = System.currentTimeMillis() + 10_000;
      while (runtimeLog.count(Level.WARN, "blocker", "blocked") == 0 && System.currentTimeMillis() < deadline) TestPlatform.sleep(50);
      assertTrue(runtimeLog.count(Level.WARN, "blocker", "has been blocked") > 0, "the platform log names the service: " + runtimeLog);
      // the deployment's log is written by the ledger's own thread, a moment after the platform's log line
      String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
      while (!log.contains("has been blocked") && System.currentTimeMillis() < deadline + 5_000) {
        TestPlatform.sleep(50);
        log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
      }
      assertTrue(log.contains("\"stage\":\"vertx\"") && log.contains("has been blocked"), log);
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/blocker");
    }
  }

  @Test
  void a_vertx_web_handler_that_throws_fails_that_request_with_500_and_the_next_one_is_served() {
    assertEquals("deployed", ferry.deploy("misbehaves", "thrower").getString("state"));
    for (int i = 0; i < 3; i++) {
      assertEquals(500, ferry.viaProxy("thrower", "/throw").statusCode());
      assertEquals(200, ferry.viaProxy("thrower", "/").statusCode());
    }
  }

  /** Plain Vert.x core would leave the request unanswered; the loader guards request handlers. */
  @Test
  void a_core_handler_that_throws_fails_that_request_with_500_and_the_next_one_is_served() {
    String id = ferry.deploy("core-throws", "core-thrower").getString("id");
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      HttpResponse<Buffer> bad = ferry.viaProxy("core-thrower", "/throw");
      assertEquals(500, bad.statusCode(), bad.bodyAsString());
      assertTrue((System.nanoTime() - t0) / 1_000_000 < PROXY_TIMEOUT_MS, "answered at once, not by the proxy's timeout");
      assertEquals("fine", ferry.viaProxy("core-thrower", "/").bodyAsString());
    }
    // and the exception is in the service's log, where its author looks
    HttpResponse<Buffer> logs = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs");
    assertTrue(logs.bodyAsString().contains("boom in a core handler"), id + " " + logs.statusCode() + " " + logs.bodyAsString());
  }

  @Test
  void threads_a_service_leaves_running_end_with_its_runner_when_it_is_replaced() {
    String leaky = ferry.deploy("starts-threads", "spawner").getString("id");
    long pid = ferry.platform.runtime().runnerOf(leaky).orElseThrow().pid();
    ferry.deploy("hello", "spawner"); // replaces it: the leaky deployment is stopped, and its runner exits
    assertEquals("stopped", ferry.awaitState(leaky, "stopped").getString("state"));
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "its runner, and every thread in it, is gone");
    assertFalse(ferry.api(HttpMethod.GET, "/api/v1/deployments/" + leaky).bodyAsJsonObject().containsKey("leaks"));
    assertEquals(200, ferry.viaProxy("spawner", "/").statusCode());
  }
}
