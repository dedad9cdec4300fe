package dev.ferry;

import dev.ferry.deployment.Addresses;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Builds run at most build.concurrency at a time; every transition is published on ferry.events. */
class BuildQueueTest {

  @Test
  void with_concurrency_one_builds_never_overlap_and_the_rest_wait_queued() {
    try (TestPlatform ferry = TestPlatform.start(c -> c.setBuildConcurrency(1))) {
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
        Instant start = Instant.parse(lines.stream().filter(l -> l.getString("message").startsWith("Extracting")).findFirst().orElseThrow().getString("ts"));
        Instant end = Instant.parse(lines.stream().filter(l -> l.getString("message").startsWith("Packed")).findFirst().orElseThrow().getString("ts"));
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
      Map<String, List<String>> seen = new ConcurrentHashMap<>();
      ferry.vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
        String id = m.body().getString("id");
        if (id != null) seen.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(m.body().getString("state"));
      }).completion().await();
      String first = ferry.deploy("hello", "evented").getString("id");
      String second = ferry.deploy("hello", "evented").getString("id");
      String failed = ferry.deploy("compile-error", "evented").getString("id");
      for (int i = 0; i < 100 && seen.getOrDefault(first, List.of()).size() < 5; i++) TestPlatform.sleep(20);
      assertEquals(List.of("queued", "built", "loaded", "deployed", "stopped"), seen.get(first));
      assertEquals(List.of("queued", "built", "loaded", "deployed"), seen.get(second));
      assertEquals(List.of("queued", "error"), seen.get(failed));
    }
  }

  private static byte[] readAll(java.nio.file.Path p) {
    try {
      return java.nio.file.Files.readAllBytes(p);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
