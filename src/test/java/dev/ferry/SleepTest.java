package dev.ferry;

import dev.ferry.run.Runner;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run.idleTimeoutMs}: a service that gets no request for that long sleeps (its runner
 * stopped), shows as {@code sleeping}, and the next request wakes it and is answered; one in use
 * never sleeps; a sleeping service is redeployed, rolled back and deleted like any other.
 */
@Tag("platform")
class SleepTest {

  static final long IDLE_MS = 1_500;
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("run.idleTimeoutMs", IDLE_MS));

  private static long runnerPid(String deploymentId) {
    return ferry.platform.runtime().runnerOf(deploymentId).map(Runner::pid).orElse(-1L);
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** The deployment's state once it is {@code state}, or as it is after 20 s. */
  private static String awaitState(String id, String state) {
    return ferry.awaitState(id, state).getString("state");
  }

  @Test
  void an_idle_service_sleeps_its_runner_gone_shows_as_sleeping_and_the_next_request_wakes_it_and_is_answered() {
    String id = ferry.deploy("hello", "napper").getString("id");
    long pid = runnerPid(id);
    assertTrue(alive(pid));
    assertEquals("sleeping", awaitState(id, "sleeping"));
    assertFalse(alive(pid), "its runner is stopped");
    assertTrue(ferry.platform.runtime().runnerOf(id).isEmpty());
    // visible as a state, not an error: status, list, the deployment itself
    JsonObject status = ferry.api(HttpMethod.GET, "/api/v1/services/napper").bodyAsJsonObject();
    assertEquals("sleeping", status.getJsonObject("current").getString("state"));
    assertEquals(id, status.getJsonObject("current").getString("id"));
    assertTrue(status.getString("url").contains("napper"), status.encodePrettily());
    JsonArray list = ferry.api(HttpMethod.GET, "/api/v1/services").bodyAsJsonObject().getJsonArray("services");
    JsonObject listed = list.stream().map(JsonObject.class::cast).filter(s -> s.getString("name").equals("napper")).findFirst().orElseThrow();
    assertEquals("sleeping", listed.getJsonObject("latest").getString("state"));

    long t0 = System.nanoTime();
    HttpResponse<Buffer> r = ferry.viaProxy("napper", "/");
    long wakeMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals(id, r.bodyAsJsonObject().getString("deployment"), "the same deployment, woken");
    // the platform's view of the pid: in the sandbox a service sees its own pid namespace
    long woken = runnerPid(id);
    assertNotEquals(pid, woken, "in a new runner");
    assertTrue(wakeMs < ferry.platform.config().run().startTimeoutMs(), "answered after " + wakeMs + " ms");
    JsonObject d = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject();
    assertEquals("deployed", d.getString("state"));
    assertTrue(d.getJsonObject("timeline").containsKey("sleeping"), d.encodePrettily());
    String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
    assertTrue(log.contains("\"stage\":\"sleep\"") && log.contains("\"stage\":\"wake\""), log);
    // and it sleeps again when left alone
    assertEquals("sleeping", awaitState(id, "sleeping"));
    assertFalse(alive(woken));
    ferry.api(HttpMethod.DELETE, "/api/v1/services/napper");
  }

  @Test
  void requests_that_arrive_together_at_a_sleeping_service_wake_it_once_and_are_all_answered() {
    String id = ferry.deploy("hello", "crowd").getString("id");
    assertEquals("sleeping", awaitState(id, "sleeping"));
    List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/").putHeader("Host", "crowd.localhost").send());
    }
    Future.all(all).await();
    for (Future<HttpResponse<Buffer>> f : all) {
      assertEquals(200, f.result().statusCode(), f.result().bodyAsString());
    }
    // one wake in the deployment's log (a service's own pid says nothing: in the sandbox each runner sees its own namespace)
    String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
    assertEquals(1, log.split("\"stage\":\"wake\"", -1).length - 1, log);
    ferry.api(HttpMethod.DELETE, "/api/v1/services/crowd");
  }

  @Test
  void a_service_in_use_does_not_sleep_nor_does_one_holding_a_websocket() throws Exception {
    String id = ferry.deploy("hello", "busy").getString("id");
    long pid = runnerPid(id);
    long until = System.currentTimeMillis() + 3 * IDLE_MS;
    while (System.currentTimeMillis() < until) {
      assertEquals(200, ferry.viaProxy("busy", "/").statusCode());
      TestPlatform.sleep(IDLE_MS / 5);
    }
    assertEquals("deployed", ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject().getString("state"));
    assertEquals(pid, runnerPid(id));

    var client = ferry.vertx.createWebSocketClient();
    try {
      CompletableFuture<String> reply = new CompletableFuture<>();
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(ferry.proxyPort())
          .setURI("/ws").addHeader("Host", "busy.localhost");
      WebSocket ws = ferry.vertx.getOrCreateContext().<WebSocket>executeBlocking(() -> null).compose(x ->
          client.connect(o).onSuccess(s -> s.textMessageHandler(reply::complete))).await();
      // an open connection is a request in flight, however long it stays quiet
      TestPlatform.sleep(3 * IDLE_MS);
      assertEquals("deployed", ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject().getString("state"));
      ws.writeTextMessage("still there?").await();
      assertEquals("echo:still there?", reply.get(10, TimeUnit.SECONDS));
      ws.close().await();
    } finally {
      client.close().await();
    }
    assertEquals("sleeping", awaitState(id, "sleeping"), "asleep once the WebSocket closed");
    ferry.api(HttpMethod.DELETE, "/api/v1/services/busy");
  }

  @Test
  void a_sleeping_service_is_redeployed_rolled_back_and_deleted_like_any_other() {
    String first = ferry.deploy("hello", "sleepy").getString("id");
    assertEquals("sleeping", awaitState(first, "sleeping"));
    // a new version takes over from the sleeping one, which is stopped
    String second = ferry.deploy("hello", "sleepy").getString("id");
    assertEquals("stopped", awaitState(first, "stopped"));
    assertEquals(second, ferry.viaProxy("sleepy", "/").bodyAsJsonObject().getString("deployment"));
    assertEquals("sleeping", awaitState(second, "sleeping"));
    // rolled back while the current one sleeps
    HttpResponse<Buffer> rb = ferry.rollback("sleepy", null);
    assertEquals(202, rb.statusCode(), rb.bodyAsString());
    // the first one's artifact, as a new deployment
    String back = rb.bodyAsJsonObject().getString("id");
    assertEquals(first, rb.bodyAsJsonObject().getString("source"));
    assertEquals("deployed", ferry.awaitFinal(back).getString("state"));
    assertEquals("stopped", awaitState(second, "stopped"));
    assertEquals(back, ferry.viaProxy("sleepy", "/").bodyAsJsonObject().getString("deployment"));
    // deleted while asleep: gone, and its host answers 404
    assertEquals("sleeping", awaitState(back, "sleeping"));
    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/sleepy").statusCode());
    assertEquals("deleted", awaitState(back, "deleted"));
    assertEquals(404, ferry.viaProxy("sleepy", "/").statusCode());
    assertEquals(0, ferry.platform.runtime().sleepingCount(), "nothing of it is kept asleep");
  }

  @Test
  void in_a_shared_runner_sleep_undeploys_the_verticle_and_the_runner_stays() {
    try (TestPlatform shared = TestPlatform.start(c -> c.with("run.idleTimeoutMs", IDLE_MS).with("run.isolation", "shared"))) {
      String id = shared.deploy("hello", "drowsy").getString("id");
      Runner runner = shared.platform.runtime().runnerOf(id).orElseThrow();
      assertEquals(1, runner.stats(true).await().getInteger("hosts"));
      assertEquals("sleeping", shared.awaitState(id, "sleeping").getString("state"));
      assertTrue(alive(runner.pid()), "the shared runner stays");
      JsonObject stats = runner.stats(true).await();
      assertEquals(0, stats.getInteger("hosts"), "its verticle is undeployed: " + stats);
      HttpResponse<Buffer> r = shared.viaProxy("drowsy", "/");
      assertEquals(200, r.statusCode(), r.bodyAsString());
      assertEquals(id, r.bodyAsJsonObject().getString("deployment"));
      assertEquals(runner.pid(), shared.platform.runtime().runnerOf(id).orElseThrow().pid(), "woken in the same shared runner");
    }
  }

  @Test
  void with_idle_timeout_zero_nothing_sleeps() {
    try (TestPlatform never = TestPlatform.start(c -> c.with("run.idleTimeoutMs", 0))) {
      String id = never.deploy("hello", "insomniac").getString("id");
      long pid = never.platform.runtime().runnerOf(id).orElseThrow().pid();
      TestPlatform.sleep(3 * IDLE_MS);
      assertEquals("deployed", never.api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject().getString("state"));
      assertTrue(alive(pid));
    }
  }
}
