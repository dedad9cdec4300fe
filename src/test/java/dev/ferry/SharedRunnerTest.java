package dev.ferry;

import dev.ferry.run.Runner;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run.isolation=shared}: several services in one runner JVM, each on a Vert.x of its own.
 * Services come and go in that one JVM, so what a process runner gets for free by exiting is
 * checked here: a replaced deployment's classloader is collected, and threads it left running are
 * interrupted and the survivors reported.
 */
@Tag("platform")
class SharedRunnerTest {

  private static final int CYCLES = 12;
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("run.isolation", "shared"));

  @Test
  void services_share_one_runner_process_each_on_a_vertx_of_its_own() {
    JsonObject a = ferry.deploy("hello", "left");
    JsonObject b = ferry.deploy("hello", "right");
    JsonObject left = ferry.viaProxy("left", "/").bodyAsJsonObject(), right = ferry.viaProxy("right", "/").bodyAsJsonObject();
    assertEquals(left.getString("jvm"), right.getString("jvm"), "one runner JVM");
    assertEquals(ferry.runnerPid("left"), ferry.runnerPid("right"), "one runner JVM");
    assertNotEquals(ProcessHandle.current().pid(), ferry.runnerPid("left"), "not the platform's");
    assertEquals(a.getString("id"), left.getString("deployment"));
    assertEquals(b.getString("id"), right.getString("deployment"));
    ferry.api(HttpMethod.DELETE, "/api/v1/services/left");
    ferry.api(HttpMethod.DELETE, "/api/v1/services/right");
  }

  @Test
  void an_idle_service_holds_no_thread_of_its_own_and_requests_spread_over_services_share_the_runners_loops() {
    JsonObject first = ferry.deploy("hello", "t0");
    Runner shared = ferry.platform.runtime().runnerOf(first.getString("id")).orElseThrow();
    assertEquals(200, ferry.viaProxy("t0", "/").statusCode());
    int before = shared.stats(false).await().getInteger("threads");
    for (int i = 1; i <= 10; i++) assertEquals("deployed", ferry.deploy("hello", "t" + i).getString("state"));
    // each answers (so each has bound its server, accepted connections and run handlers), then sits idle
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i <= 10; i++) assertEquals(200, ferry.viaProxy("t" + i, "/").statusCode());
    }
    int after = shared.stats(false).await().getInteger("threads");
    assertTrue(after - before <= 2, "ten more services, " + (after - before) + " more threads (" + before + " → " + after + ")");
    for (int i = 0; i <= 10; i++) ferry.api(HttpMethod.DELETE, "/api/v1/services/t" + i);
  }

  @Test
  void services_deployed_at_the_same_time_each_get_a_vertx_and_a_port_of_their_own() throws Exception {
    java.util.concurrent.ExecutorService uploads = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<JsonObject>> all = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String name = "together" + i;
        all.add(uploads.submit(() -> ferry.deploy("hello", name)));
      }
      for (int i = 0; i < 8; i++) {
        JsonObject d = all.get(i).get();
        assertEquals("deployed", d.getString("state"), d.encodePrettily());
        assertEquals(d.getString("id"), ferry.viaProxy("together" + i, "/").bodyAsJsonObject().getString("deployment"));
      }
    } finally {
      uploads.shutdownNow();
      for (int i = 0; i < 8; i++) ferry.api(HttpMethod.DELETE, "/api/v1/services/together" + i);
    }
  }

  @Test
  void a_handler_that_blocks_a_shared_loop_is_named_in_its_own_deployment_log() {
    String id = ferry.deploy("misbehaves", "blocker").getString("id");
    try (LogCapture runtimeLog = LogCapture.of(dev.ferry.run.ServiceRuntime.class)) {
      // blocks its event loop (the runner's, shared) for 20 s: the proxy gives up after its timeout
      ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/block").putHeader("Host", "blocker.localhost").timeout(3_000).send();
      long deadline = System.currentTimeMillis() + 15_000;
      while (runtimeLog.count(ch.qos.logback.classic.Level.WARN, "blocker", "has been blocked") == 0 && System.currentTimeMillis() < deadline) {
        TestPlatform.sleep(50);
      }
      assertTrue(runtimeLog.count(ch.qos.logback.classic.Level.WARN, "blocker", "has been blocked") > 0, "the platform log names it: " + runtimeLog);
      String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
      assertTrue(log.contains("\"stage\":\"vertx\"") && log.contains("has been blocked"), log);
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/blocker");
    }
  }

  @Test
  void service_classloaders_are_collected_after_undeploy() {
    String id = null;
    for (int i = 0; i < CYCLES; i++) {
      // services that make Vert.x start threads from their code, use Vert.x Web, plain core, or
      // leave periodic and one-shot timers running (Vert.x cancels them when their Vert.x closes)
      String fixture = List.of("uses-workers", "rest", "hello", "starts-timers").get(i % 4);
      JsonObject d = ferry.deploy(fixture, "churn");
      assertEquals("deployed", d.getString("state"), d.encodePrettily());
      id = d.getString("id");
      for (int k = 0; k < 4; k++) {
        assertEquals(200, ferry.viaProxy("churn", fixture.equals("rest") ? "/todos" : "/").statusCode());
      }
    }
    // the last one's predecessor is stopped once drained
    ferry.awaitRunning(1);
    Runner shared = ferry.platform.runtime().runnerOf(id).orElseThrow();
    assertEquals(1, loadersAlive(shared, "churn", 1), "its classloaders alive in the shared runner");
    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/churn").statusCode());
    assertEquals(0, loadersAlive(shared, "churn", 0), "after delete");
  }

  /**
   * How many classloaders of {@code service} are alive in {@code runner}: once it is {@code wanted}, or
   * after 15 s (a closed Vert.x ends its threads gracefully). Another test's service may keep its own
   * alive meanwhile (a thread that ignores interrupts); those do not count.
   */
  private static long loadersAlive(Runner runner, String service, int wanted) {
    long deadline = System.currentTimeMillis() + 15_000;
    JsonObject stats;
    long alive;
    do {
      stats = runner.stats(true).await();
      alive = stats.getJsonArray("alive").stream().filter(n -> ((String) n).startsWith(service + " ")).count();
    } while (alive != wanted && System.currentTimeMillis() < deadline);
    assertEquals(wanted, alive, "alive in the runner, and the threads that hold them: " + stats.encodePrettily());
    return alive;
  }

  @Test
  void threads_a_service_leaves_running_are_interrupted_and_those_that_survive_are_reported() {
    String leaky = ferry.deploy("starts-threads", "spawner").getString("id");
    try (LogCapture runtimeLog = LogCapture.of(dev.ferry.run.ServiceRuntime.class)) {
      ferry.deploy("hello", "spawner"); // replaces it: the leaky deployment is undeployed
      assertEquals("stopped", ferry.awaitState(leaky, "stopped").getString("state"));
      JsonArray leaks = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + leaky).bodyAsJsonObject().getJsonArray("leaks");
      assertEquals(new JsonArray().add("stubborn-worker"), leaks, "the thread that ignored its interrupt is reported, not the one that stopped");
      JsonArray serviceLeaks = ferry.api(HttpMethod.GET, "/api/v1/services/spawner").bodyAsJsonObject().getJsonArray("leaks");
      assertEquals(new JsonObject().put("deployment", leaky).put("threads", new JsonArray().add("stubborn-worker")), serviceLeaks.getJsonObject(0));
      assertTrue(runtimeLog.count(ch.qos.logback.classic.Level.WARN, "spawner", "stubborn-worker") > 0,
          "a warning naming the service and the thread: " + runtimeLog);
      String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + leaky + "/logs").bodyAsString();
      assertTrue(log.contains("stubborn-worker") && log.contains("\"level\":\"warn\""), log);
      // the new version serves meanwhile
      assertEquals(200, ferry.viaProxy("spawner", "/").statusCode());
      // its classloader lives as long as the thread (5 s past its interrupt), then only the new version's is left
      Runner shared = ferry.platform.runtime().runnerOf(ferry.api(HttpMethod.GET, "/api/v1/services/spawner").bodyAsJsonObject()
          .getJsonObject("current").getString("id")).orElseThrow();
      long deadline = System.currentTimeMillis() + 45_000;
      while (shared.stats(true).await().getInteger("loaders") != 1) {
        assertTrue(System.currentTimeMillis() < deadline, "the leaked classloader is still alive 45 s later");
        TestPlatform.sleep(500);
      }
    }
    ferry.api(HttpMethod.DELETE, "/api/v1/services/spawner");
  }
}
