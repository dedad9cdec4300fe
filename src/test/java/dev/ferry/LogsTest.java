package dev.ferry;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deployment logs: NDJSON, and live over WebSocket to several, late, early-leaving and slow watchers. */
@Tag("platform")
class LogsTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  private static List<JsonObject> ndjson(String id) {
    HttpResponse<Buffer> r = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs");
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals("application/x-ndjson", r.getHeader("content-type"));
    return r.bodyAsString().lines().map(JsonObject::new).toList();
  }

  private static String identity(JsonObject line) {
    return line.getString("ts") + " " + line.getString("stage") + " " + line.getString("message");
  }

  private static String upload(String fixture, String service) {
    HttpResponse<Buffer> r = ferry.upload(service, TestPlatform.pack(fixture));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject().getString("id");
  }

  @Test
  void a_service_log_follows_it_across_a_redeploy_and_a_rollback_and_ends_when_it_is_deleted() {
    String first = ferry.deploy("chatty", "svc-log").getString("id");
    LogWatcher w = LogWatcher.openService(ferry, "svc-log", null);
    // the latest deployment's backlog, then where it stands
    w.await(f -> "chatty is starting".equals(f.getString("message")) && first.equals(f.getString("deployment")));
    w.await(f -> "state".equals(f.getString("event")) && "deployed".equals(f.getJsonObject("deployment").getString("state")));

    String second = ferry.deploy("hello", "svc-log").getString("id");
    int swapped = w.frames.indexOf(w.await(f -> second.equals(f.getString("deployment")) && "swap".equals(f.getString("stage"))));
    w.await(f -> "state".equals(f.getString("event")) && second.equals(f.getJsonObject("deployment").getString("id"))
        && "deployed".equals(f.getJsonObject("deployment").getString("state")));
    assertTrue(w.lines().stream().anyMatch(l -> second.equals(l.getString("deployment")) && "extract".equals(l.getString("stage"))),
        "the new deployment from its first line: " + w.frames);

    // the rollback is a new deployment that runs the first one's artifact
    String back = ferry.rollback("svc-log", first).bodyAsJsonObject().getString("id");
    w.await(swapped, f -> back.equals(f.getString("deployment")) && "swap".equals(f.getString("stage")));
    ferry.viaProxy("svc-log", "/say?m=after-the-rollback");
    w.await(f -> "after-the-rollback".equals(f.getString("message")) && back.equals(f.getString("deployment")));
    // from its first line, and it was not built: the first build's lines are sent once, the first one's
    assertTrue(w.lines().stream().anyMatch(l -> back.equals(l.getString("deployment")) && "rollback".equals(l.getString("stage"))),
        w.frames.toString());
    assertEquals(0, w.lines().stream().filter(l -> back.equals(l.getString("deployment")) && "extract".equals(l.getString("stage"))).count(),
        w.frames.toString());
    assertEquals(1, w.lines().stream().filter(l -> first.equals(l.getString("deployment")) && "extract".equals(l.getString("stage"))
        && l.getString("message").startsWith("Extracting")).count(), w.frames.toString());

    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/svc-log").statusCode());
    w.awaitClosed();
    JsonObject end = w.frames.get(w.frames.size() - 1);
    assertEquals(new JsonObject().put("event", "end").put("state", "deleted").put("service", "svc-log"), end);
    assertEquals(w.lines().size(), w.lines().stream().map(l -> l.getString("deployment") + identity(l)).distinct().count(), "each line once");

    Throwable unknown = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> ferry.vertx.createWebSocketClient()
        .connect(new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1").setPort(ferry.apiPort())
            .setURI("/api/v1/services/no-such-service/logs").addHeader("Authorization", "Bearer " + TestPlatform.TOKEN)).await());
    assertEquals(404, ((io.vertx.core.http.UpgradeRejectedException) unknown).getStatus());
  }

  @Test
  void ndjson_log_has_every_stage_each_line_a_json_object() {
    JsonObject d = ferry.deploy("hello", "logs-hello");
    List<JsonObject> lines = ndjson(d.getString("id"));
    for (JsonObject l : lines) {
      for (String key : List.of("ts", "level", "stage", "message")) assertNotNull(l.getString(key), l.encode());
    }
    Set<String> stages = lines.stream().map(l -> l.getString("stage")).collect(Collectors.toSet());
    assertTrue(stages.containsAll(Set.of("extract", "compile", "package", "load", "deploy", "ready", "swap")), stages.toString());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/deployments/nope/logs").statusCode());
  }

  @Test
  void each_compiler_diagnostic_is_its_own_log_line() {
    JsonObject d = ferry.deploy("two-errors", "logs-errs");
    assertEquals("error", d.getString("state"));
    List<String> errors = ndjson(d.getString("id")).stream().filter(l -> "error".equals(l.getString("level")))
        .map(l -> l.getString("message")).toList();
    // the summary, then each diagnostic once, in full: javac's message, the source line, a caret under the column
    assertEquals(List.of("Compilation failed with 2 errors",
        """
            src/main/java/fixture/errs/TwoErrors.java:9: error: incompatible types: java.lang.String cannot be converted to int
                int x = "one";
                        ^""",
        """
            src/main/java/fixture/errs/TwoErrors.java:10: error: incompatible types: int cannot be converted to java.lang.String
                String y = 2;
                           ^"""), errors);
  }

  @Test
  void several_watchers_joining_mid_build_get_backlog_live_lines_and_the_final_frame_without_duplicates() {
    String id = upload("slow-start", "logs-live");
    LogWatcher a = LogWatcher.open(ferry, id, null);
    // b joins once the deployment is under way (slow-start takes 600 ms to start)
    a.await(f -> "deploy".equals(f.getString("stage")));
    LogWatcher b = LogWatcher.open(ferry, id, null);
    a.awaitClosed();
    b.awaitClosed();
    // c joins after the end: backlog and final frame at once
    LogWatcher c = LogWatcher.open(ferry, id, null).awaitClosed();

    List<String> stored = ndjson(id).stream().map(LogsTest::identity).toList();
    for (LogWatcher w : List.of(a, b, c)) {
      assertEquals(stored, w.lines().stream().map(LogsTest::identity).toList(), "every line once, in order");
      JsonObject end = w.endFrame();
      assertNotNull(end, w.frames.toString());
      assertEquals("deployed", end.getString("state"));
      assertEquals(id, end.getJsonObject("deployment").getString("id"));
      assertEquals(end, w.frames.get(w.frames.size() - 1), "the final frame comes last");
    }
    assertTrue(stored.stream().anyMatch(l -> l.contains(" swap ")), stored.toString());
  }

  @Test
  void a_line_stored_in_time_for_the_backlog_but_heard_live_after_the_socket_opened_is_sent_once() {
    // a build thread stores a line, then publishes it: a watcher can join in between, and then has
    // the line in its backlog and hears it live once its socket is open; here that order is forced
    String id = ferry.deploy("hello", "logs-late").getString("id");
    EventBus bus = ferry.platform.vertx().eventBus();
    JsonObject line = new JsonObject().put("ts", Deployment.now().toString()).put("level", "info")
        .put("stage", "service").put("message", "stored first, heard late").put("deployment", id);
    bus.send(Addresses.LOG, line);
    bus.request(Addresses.FLUSH, null).await();
    LogWatcher w = LogWatcher.open(ferry, id, "follow=true");
    w.await(f -> "stored first, heard late".equals(f.getString("message")));
    bus.publish(Addresses.logs(id), line);
    bus.publish(Addresses.logs(id), line.copy().put("message", "after it"));
    w.await(f -> "after it".equals(f.getString("message")));
    assertEquals(1, w.lines().stream().filter(l -> "stored first, heard late".equals(l.getString("message"))).count(), w.lines().toString());
    w.close();
    ferry.api(HttpMethod.DELETE, "/api/v1/services/logs-late");
  }

  @Test
  void a_watcher_that_leaves_early_does_not_disturb_the_build_or_the_others() {
    String id = upload("slow-start", "logs-leaver");
    LogWatcher leaver = LogWatcher.open(ferry, id, null);
    LogWatcher stayer = LogWatcher.open(ferry, id, null);
    leaver.await(f -> true);
    leaver.close();
    stayer.awaitClosed();
    assertEquals("deployed", stayer.endFrame().getString("state"));
    assertEquals("deployed", ferry.awaitFinal(id).getString("state"));
  }

  @Test
  void a_failed_build_ends_the_stream_with_the_error() {
    String id = upload("compile-error", "logs-broken");
    LogWatcher w = LogWatcher.open(ferry, id, null).awaitClosed();
    JsonObject end = w.endFrame();
    assertEquals("error", end.getString("state"));
    assertTrue(end.getJsonObject("deployment").getString("error").contains("Broken.java:9"), end.encode());
  }

  @Test
  void service_output_via_sdk_and_jul_is_captured_and_streamed_while_following() {
    JsonObject d = ferry.deploy("chatty", "logs-chatty");
    String id = d.getString("id");
    LogWatcher w = LogWatcher.open(ferry, id, "follow=true");
    w.await(f -> "chatty is starting".equals(f.getString("message")));
    ferry.viaProxy("logs-chatty", "/say?m=hello-from-the-sdk");
    ferry.viaProxy("logs-chatty", "/jul?m=hello-from-jul");
    JsonObject sdk = w.await(f -> "hello-from-the-sdk".equals(f.getString("message")));
    JsonObject jul = w.await(f -> "hello-from-jul".equals(f.getString("message")));
    assertEquals("service", sdk.getString("stage"));
    assertEquals("info", sdk.getString("level"));
    assertEquals("warn", jul.getString("level"));
    assertEquals(null, w.endFrame(), "following stays on while the service runs");

    ferry.api(HttpMethod.DELETE, "/api/v1/services/logs-chatty");
    w.awaitClosed();
    assertEquals("deleted", w.endFrame().getString("state"));
    Set<String> stored = ndjson(id).stream().map(l -> l.getString("message")).collect(Collectors.toCollection(HashSet::new));
    assertTrue(stored.containsAll(Set.of("hello-from-the-sdk", "hello-from-jul")));
  }

  @Test
  void a_slow_watcher_loses_lines_with_a_notice_while_a_fast_one_gets_them_all() {
    JsonObject d = ferry.deploy("chatty", "logs-spam");
    String id = d.getString("id");
    LogWatcher slow = LogWatcher.open(ferry, id, "follow=true");
    LogWatcher fast = LogWatcher.open(ferry, id, "follow=true");
    slow.await(f -> "chatty is starting".equals(f.getString("message")));
    // the slow watcher stops reading: its socket fills, then its queue, then lines are dropped
    ferry.vertx.runOnContext(v -> slow.socket.pause());
    // in chunks the fast watcher keeps up with: 20 MB in all
    int chunk = 500, chunks = 40, n = chunk * chunks;
    for (int c = 0; c < chunks; c++) {
      int from = fast.frames.size();
      assertEquals(200, ferry.viaProxy("logs-spam", "/spam?n=" + chunk + "&size=1000").statusCode());
      fast.await(from, f -> f.getString("message", "").startsWith("spam " + (chunk - 1) + " "));
    }
    ferry.vertx.runOnContext(v -> slow.socket.resume());
    ferry.api(HttpMethod.DELETE, "/api/v1/services/logs-spam");
    slow.awaitClosed();
    fast.awaitClosed();

    assertTrue(fast.lines().stream().noneMatch(l -> "stream".equals(l.getString("stage"))), "the fast watcher lost nothing");
    long fastSpam = fast.lines().stream().filter(l -> l.getString("message").startsWith("spam ")).count();
    long slowSpam = slow.lines().stream().filter(l -> l.getString("message").startsWith("spam ")).count();
    assertEquals(n, fastSpam);
    assertTrue(slowSpam < n, "the slow watcher got " + slowSpam);
    JsonObject notice = slow.await(f -> "stream".equals(f.getString("stage")));
    assertTrue(notice.getString("message").matches("\\d+ lines? dropped.*"), notice.encode());
    assertEquals("deleted", slow.endFrame().getString("state"));
  }
}
