package dev.ferry;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A runner that dies (its heap full, a halt by reflection, a kill -9) takes nothing with it: a
 * neighbour under steady load sees no failure, the deployment's log names the cause, the service is
 * started again in a new runner; after five crashes in five minutes it is {@code crashed}, and a
 * restarted platform does not start it again in a loop.
 */
@Tag("platform")
class CrashesTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  SteadyLoad load;

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
  void a_runner_that_fills_its_heap_is_restarted_and_the_log_names_the_cause() {
    String id = ferry.deploy("crasher", "oom").getString("id");
    long pid = pid("oom");
    ferry.viaProxy("oom", "/oom");
    long next = awaitNewPid("oom", pid);
    assertNotEquals(pid, next);
    String log = logOf(id);
    assertTrue(log.contains("ran out of memory") && log.contains("OutOfMemoryError"), log);
    assertTrue(log.contains("Serving again"), log);
    JsonObject status = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject();
    assertEquals("deployed", status.getString("state"));
    assertEquals(1, status.getInteger("restarts"), status.encodePrettily());
    assertTrue(status.getString("lastCrash").contains("ran out of memory"), status.encodePrettily());
    assertTrue(ferry.api(HttpMethod.GET, "/metrics").bodyAsString().contains("ferry_runner_restarts_total{service=\"oom\"} 1.0"));
    ferry.api(HttpMethod.DELETE, "/api/v1/services/oom");
  }

  @Test
  void a_halt_by_reflection_ends_only_its_runner_and_the_log_names_its_status() {
    String id = ferry.deploy("crasher", "halter").getString("id");
    long pid = pid("halter");
    ferry.viaProxy("halter", "/halt");
    awaitNewPid("halter", pid);
    assertTrue(logOf(id).contains("exited with status 42"), logOf(id));
    ferry.api(HttpMethod.DELETE, "/api/v1/services/halter");
  }

  @Test
  void five_kills_in_five_minutes_make_it_crashed_and_a_restarted_platform_does_not_start_it_again() {
    String id = ferry.deploy("crasher", "doomed").getString("id");
    long pid = pid("doomed");
    for (int i = 1; i < 5; i++) {
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      pid = awaitNewPid("doomed", pid);
    }
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    JsonObject crashed = ferry.awaitState(id, "crashed");
    assertEquals("crashed", crashed.getString("state"), crashed.encodePrettily());
    assertEquals(5, crashed.getJsonArray("causes").size(), crashed.encodePrettily());
    assertTrue(crashed.getJsonArray("causes").getString(0).contains("killed by signal 9 (SIGKILL)"), crashed.encodePrettily());
    assertTrue(logOf(id).contains("Restarting in 1000 ms"), "its restarts backed off: " + logOf(id));
    var refused = ferry.viaProxy("doomed", "/");
    assertEquals(503, refused.statusCode(), refused.bodyAsString());
    assertTrue(refused.bodyAsJsonObject().getString("message").contains("crashed"), refused.bodyAsString());

    // a platform started again on the same data dir leaves it crashed
    restartUnderNewLoad();
    TestPlatform.sleep(1_000);
    assertEquals("crashed", ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject().getString("state"));
    assertFalse(ferry.platform.runtime().runnerOf(id).isPresent(), "not started again");
    // until someone asks: its artifact again, as a new deployment
    var restarted = ferry.http.post(ferry.apiPort(), "127.0.0.1", "/api/v1/services/doomed/restart").send().await();
    assertEquals(202, restarted.statusCode(), restarted.bodyAsString());
    String again = restarted.bodyAsJsonObject().getString("id");
    assertNotEquals(id, again);
    assertEquals(id, restarted.bodyAsJsonObject().getString("source"));
    assertEquals("deployed", ferry.awaitFinal(again).getString("state"));
    assertEquals("crashed", ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject().getString("state"), "not rewound");
    assertEquals(200, ferry.viaProxy("doomed", "/").statusCode());
    ferry.api(HttpMethod.DELETE, "/api/v1/services/doomed");
  }

  @Test
  void crashes_before_a_platform_restart_count_after_it_so_a_restart_is_no_way_out_of_a_crash_loop() {
    String id = ferry.deploy("crasher", "relapse").getString("id");
    long pid = pid("relapse");
    for (int i = 1; i <= 3; i++) {
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      pid = awaitNewPid("relapse", pid);
    }
    // three crashes, then the platform restarts: the deployment is restored...
    restartUnderNewLoad();
    assertEquals(200, awaitAnswer("relapse"), "restored from its artifact");
    // ...and two more crashes are its fifth: crashed, not restarted
    pid = pid("relapse");
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    pid = awaitNewPid("relapse", pid);
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    JsonObject crashed = ferry.awaitState(id, "crashed");
    assertEquals("crashed", crashed.getString("state"), crashed.encodePrettily());
    assertEquals(5, crashed.getJsonArray("causes").size(), crashed.encodePrettily());
    assertEquals(503, ferry.viaProxy("relapse", "/").statusCode());

    // a platform restarted now leaves it crashed
    restartUnderNewLoad();
    TestPlatform.sleep(1_000);
    assertEquals("crashed", ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject().getString("state"));
    assertFalse(ferry.platform.runtime().runnerOf(id).isPresent(), "not started again");
    ferry.api(HttpMethod.DELETE, "/api/v1/services/relapse");
  }

  /**
   * Restarts the platform: the bystander's load stops first (it is on the old platform's Vert.x,
   * whose requests would never complete) and a new one starts once the restore is done.
   */
  private void restartUnderNewLoad() {
    load.stop();
    ferry.restart();
    ferry.platform.restored().await();
    load = new SteadyLoad(ferry, "bystander");
  }

  private static int awaitAnswer(String service) {
    long deadline = System.currentTimeMillis() + 30_000;
    int status;
    do {
      status = ferry.viaProxy(service, "/").statusCode();
      if (status == 200) return status;
      TestPlatform.sleep(100);
    } while (System.currentTimeMillis() < deadline);
    return status;
  }

  private static long pid(String service) {
    assertEquals(200, ferry.viaProxy(service, "/").statusCode());
    return ferry.runnerPid(service);
  }

  /** Waits until {@code service} answers from a runner other than {@code old}; returns its pid. */
  private static long awaitNewPid(String service, long old) {
    // polled: a runner started again after a crash publishes no state change (the deployment stays deployed)
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      var r = ferry.viaProxy(service, "/");
      long now = ferry.runnerPid(service);
      if (r.statusCode() == 200 && now > 0 && now != old) return now;
      TestPlatform.sleep(50);
    }
    throw new AssertionError(service + " did not come back in a new runner");
  }

  private static String logOf(String id) {
    return ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
  }
}
