package dev.ferry;

import dev.ferry.deployment.Addresses;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exact states each deployment goes through, as {@code ferry.events} publishes them, for each
 * way a deployment goes: deploy, failed build, failed start, redeploy, rollback, delete, crash and
 * restart, sleep and wake.
 */
@Tag("platform")
class StateSequencesTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  /** Every state published, per deployment id; service-level events under "service:" + name. */
  static final Map<String, List<String>> seen = new ConcurrentHashMap<>();

  @BeforeAll
  static void listen() {
    ferry.vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
      String id = m.body().getString("id");
      String key = id != null ? id : "service:" + m.body().getString("service");
      seen.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(m.body().getString("state"));
    }).completion().await();
  }


  /** Waits until {@code key} was seen in as many states as {@code expected} names (and a moment for any extra), then compares. */
  static void assertSequence(String key, String... expected) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (seen.getOrDefault(key, List.of()).size() < expected.length && System.nanoTime() < deadline) TestPlatform.sleep(20);
    // a state too many would come right after
    TestPlatform.sleep(200);
    assertEquals(List.of(expected), seen.getOrDefault(key, List.of()), key);
  }

  @Test
  void deploy() {
    String id = ferry.deploy("hello", "seq-deploy").getString("id");
    assertSequence(id, "queued", "built", "loaded", "deployed");
  }

  @Test
  void failed_build() {
    String id = ferry.deploy("compile-error", "seq-build").getString("id");
    assertSequence(id, "queued", "error");
  }

  @Test
  void failed_start() {
    JsonObject d = ferry.deploy("fails-on-start", "seq-start");
    assertEquals("deploy", d.getString("stage"), d.encodePrettily());
    assertSequence(d.getString("id"), "queued", "built", "loaded", "error");
  }

  @Test
  void redeploy() {
    String v1 = ferry.deploy("hello", "seq-redeploy").getString("id");
    String v2 = ferry.deploy("uses-sdk", "seq-redeploy").getString("id");
    assertSequence(v1, "queued", "built", "loaded", "deployed", "stopped");
    assertSequence(v2, "queued", "built", "loaded", "deployed");
  }

  @Test
  void rollback() {
    String v1 = ferry.deploy("hello", "seq-rollback").getString("id");
    String v2 = ferry.deploy("uses-sdk", "seq-rollback").getString("id");
    assertSequence(v1, "queued", "built", "loaded", "deployed", "stopped");
    HttpResponse<Buffer> r = ferry.rollback("seq-rollback", null);
    assertEquals(202, r.statusCode(), r.bodyAsString());
    String back = r.bodyAsJsonObject().getString("id");
    assertEquals(v1, r.bodyAsJsonObject().getString("source"));
    // a new deployment from the stored artifact; the one it rolls back to is not rewound
    assertSequence(back, "built", "loaded", "deployed");
    assertSequence(v2, "queued", "built", "loaded", "deployed", "stopped");
    assertSequence(v1, "queued", "built", "loaded", "deployed", "stopped");
  }

  @Test
  void delete() {
    String id = ferry.deploy("hello", "seq-delete").getString("id");
    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/seq-delete").statusCode());
    assertSequence(id, "queued", "built", "loaded", "deployed", "deleted");
    assertSequence("service:seq-delete", "deleted");
  }

  @Test
  void crash() {
    String id = ferry.deploy("crasher", "seq-crash").getString("id");
    long pid = ferry.runnerPid("seq-crash");
    // killed as often as the limit allows: restarted in place (no state changes), then crashed
    for (int i = 1; i <= 5; i++) {
      assertTrue(pid > 0, "a runner serves seq-crash");
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      if (i < 5) pid = awaitNewPid("seq-crash", pid);
    }
    assertSequence(id, "queued", "built", "loaded", "deployed", "crashed");

    // a restart: its artifact again, as a new deployment; the crashed one stays crashed
    HttpResponse<Buffer> r = ferry.http.post(ferry.apiPort(), "127.0.0.1", "/api/v1/services/seq-crash/restart").send().await();
    assertEquals(202, r.statusCode(), r.bodyAsString());
    assertSequence(r.bodyAsJsonObject().getString("id"), "built", "loaded", "deployed");
    assertSequence(id, "queued", "built", "loaded", "deployed", "crashed");
  }

  @Test
  void sleep_and_wake() {
    try (TestPlatform napping = TestPlatform.start(c -> c.with("run.idleTimeoutMs", 1_500))) {
      List<String> states = new CopyOnWriteArrayList<>();
      napping.vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
        if ("seq-sleep".equals(m.body().getString("service"))) states.add(m.body().getString("state"));
      }).completion().await();
      napping.deploy("hello", "seq-sleep");
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!states.contains("sleeping") && System.nanoTime() < deadline) TestPlatform.sleep(50);
      assertEquals(200, napping.viaProxy("seq-sleep", "/").statusCode());
      TestPlatform.sleep(200);
      assertEquals(List.of("queued", "built", "loaded", "deployed", "sleeping", "deployed"), List.copyOf(states).subList(0, Math.min(6, states.size())));
    }
  }

  private static long awaitNewPid(String service, long old) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      long now = ferry.runnerPid(service);
      if (now > 0 && now != old && ferry.viaProxy(service, "/").statusCode() == 200) return now;
      TestPlatform.sleep(50);
    }
    throw new AssertionError(service + " did not come back in a new runner");
  }
}
