package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Builds run at most build.concurrency at a time; every transition is published on ferry.events. */
@Tag("platform")
class BuildQueueTest {

  @Test
  void with_concurrency_one_builds_never_overlap_and_the_rest_wait_queued() {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("build.concurrency", 1))) {
      List<String> ids = new ArrayList<>();
      List<io.vertx.core.Future<HttpResponse<Buffer>>> uploads = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        uploads.add(ferry.http.post(ferry.apiPort(), "127.0.0.1", "/api/v1/services/q" + i + "/deployments")
            .putHeader("content-type", "application/gzip")
            // three different sources: none may be a build-cache hit
            .sendBuffer(Buffer.buffer(readAll(TestPlatform.pack(List.of("rest", "hello", "two-verticles").get(i))))));
      }
      for (var u : uploads) ids.add(u.await().bodyAsJsonObject().getString("id"));
      for (String id : ids) assertEquals("deployed", ferry.awaitFinal(id).getString("state"));

      // each build's window: from its "Extracting" line to its "Packed" line
      List<Instant[]> windows = new ArrayList<>();
      for (String id : ids) {
        var lines = ferry.platform.ledger().logs(id);
        Instant start = lines.stream().filter(l -> l.message().startsWith("Extracting")).findFirst().orElseThrow().ts();
        Instant end = lines.stream().filter(l -> l.message().startsWith("Packed")).findFirst().orElseThrow().ts();
        windows.add(new Instant[] {start, end});
      }
      windows.sort((a, b) -> a[0].compareTo(b[0]));
      for (int i = 1; i < windows.size(); i++) {
        assertTrue(!windows.get(i)[0].isBefore(windows.get(i - 1)[1]), "builds overlapped: " + i);
      }
    }
  }

  @Test
  void every_transition_is_published_on_ferry_events_in_order() {
    try (TestPlatform ferry = TestPlatform.start()) {
      String first = ferry.deploy("hello", "evented").getString("id");
      String second = ferry.deploy("hello", "evented").getString("id");
      String failed = ferry.deploy("compile-error", "evented").getString("id");
      ferry.awaitState(first, "stopped");
      assertEquals(List.of("queued", "built", "loaded", "deployed", "stopped"), ferry.events.states(first));
      assertEquals(List.of("queued", "built", "loaded", "deployed"), ferry.events.states(second));
      assertEquals(List.of("queued", "error"), ferry.events.states(failed));
    }
  }

  private static byte[] readAll(java.nio.file.Path p) {
    try {
      return java.nio.file.Files.readAllBytes(p);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A service whose compile takes a while: many generated classes; {@code variant} changes its source hash. */
  static java.nio.file.Path slowService(int variant) throws java.io.IOException {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("slow-service");
    java.nio.file.Path pkg = java.nio.file.Files.createDirectories(dir.resolve("src/main/java/slow"));
    java.nio.file.Files.copy(TestPlatform.FIXTURES.resolve("hello/src/main/java/fixture/hello/Hello.java"), pkg.resolve("Hello.txt"));
    String hello = java.nio.file.Files.readString(pkg.resolve("Hello.txt")).replace("package fixture.hello;", "package slow;");
    java.nio.file.Files.delete(pkg.resolve("Hello.txt"));
    java.nio.file.Files.writeString(pkg.resolve("Hello.java"), hello + "\n// variant " + variant + "\n");
    for (int c = 0; c < 150; c++) {
      StringBuilder b = new StringBuilder("package slow;\npublic class Gen" + c + " {\n");
      for (int m = 0; m < 40; m++) {
        b.append("  public static java.util.List<String> m").append(m).append("(java.util.Map<String, Integer> in) {\n")
            .append("    return in.entrySet().stream().filter(e -> e.getValue() > ").append(m)
            .append(").map(e -> e.getKey() + \"").append(c).append("\").sorted().toList();\n  }\n");
      }
      java.nio.file.Files.writeString(pkg.resolve("Gen" + c + ".java"), b.append("}\n").toString());
    }
    java.nio.file.Path archive = TestPlatform.packDir(dir);
    TestPlatform.deleteTree(dir);
    return archive;
  }

  @Test
  void over_the_queue_capacity_uploads_answer_503_with_retry_after_and_every_accepted_one_finishes() throws Exception {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("build.concurrency", 1).with("build.queueCapacity", 2))) {
      int n = 6;
      List<byte[]> bodies = new ArrayList<>();
      for (int i = 0; i < n; i++) bodies.add(java.nio.file.Files.readAllBytes(slowService(i)));
      // all at once, from the event loop, before any build can finish
      List<io.vertx.core.Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        sent.add(ferry.http.post(ferry.apiPort(), "127.0.0.1", "/api/v1/services/q" + i + "/deployments")
            .putHeader("content-type", "application/gzip").sendBuffer(Buffer.buffer(bodies.get(i))));
      }
      List<String> accepted = new ArrayList<>();
      List<String> refusedServices = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        HttpResponse<Buffer> r = sent.get(i).await();
        if (r.statusCode() == 202) {
          accepted.add(r.bodyAsJsonObject().getString("id"));
        } else {
          assertEquals(503, r.statusCode(), r.bodyAsString());
          assertEquals("overloaded", r.bodyAsJsonObject().getString("error"));
          assertTrue(Integer.parseInt(r.getHeader("Retry-After")) > 0, "Retry-After: " + r.getHeader("Retry-After"));
          refusedServices.add("q" + i);
        }
      }
      assertEquals(2, accepted.size(), "the queue holds two");
      assertEquals(n - 2, refusedServices.size());
      // a refused upload left nothing: no deployment, no file
      for (String s : refusedServices) {
        assertEquals(404, ferry.api(io.vertx.core.http.HttpMethod.GET, "/api/v1/services/" + s).statusCode(), s);
      }
      // none accepted is lost
      for (String id : accepted) assertEquals("deployed", ferry.awaitFinal(id).getString("state"), id);
      try (var uploads = java.nio.file.Files.list(ferry.platform.dataDir().uploads())) {
        assertEquals(0, uploads.count(), "uploads are gone once built; refused ones were never stored");
      }
      // the queue has room again
      HttpResponse<Buffer> again = ferry.upload("q-again", TestPlatform.pack("hello"));
      assertEquals(202, again.statusCode(), again.bodyAsString());
      assertEquals("deployed", ferry.awaitFinal(again.bodyAsJsonObject().getString("id")).getString("state"));
    }
  }

  @Test
  void two_deploys_of_one_service_at_once_end_with_the_later_serving_and_the_earlier_stopped() {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("build.concurrency", 2))) {
      java.nio.file.Path[] fixtures = {TestPlatform.pack("hello"), TestPlatform.pack("slow-ready")};
      for (int round = 0; round < 4; round++) {
        java.nio.file.Path first = fixtures[round % 2], second = fixtures[(round + 1) % 2];
        String earlier = ferry.upload("race", first).bodyAsJsonObject().getString("id");
        String later = ferry.upload("race", second).bodyAsJsonObject().getString("id");
        JsonObject l = ferry.awaitFinal(later);
        assertEquals("deployed", l.getString("state"), "round " + round + ": " + l.encodePrettily());
        assertEquals("stopped", ferry.awaitState(earlier, "stopped").getString("state"), "round " + round);
        JsonObject service = ferry.api(io.vertx.core.http.HttpMethod.GET, "/api/v1/services/race").bodyAsJsonObject();
        assertEquals(later, service.getJsonObject("current").getString("id"), "round " + round);
        for (int k = 0; k < 5; k++) {
          assertEquals(later, ferry.viaProxy("race", "/").bodyAsJsonObject().getString("deployment"), "round " + round);
        }
      }
    }
  }
}
