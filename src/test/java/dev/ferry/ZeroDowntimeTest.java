package dev.ferry;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Redeploys and rollbacks under a steady stream of requests: none fails, none meets a half-started version. */
@Tag("platform")
class ZeroDowntimeTest {

  @Test
  void twenty_redeploys_and_two_rollbacks_under_load_drop_no_request_and_only_ready_versions_answer() {
    try (TestPlatform ferry = TestPlatform.start()) {
      String first = ferry.deploy("slow-ready", "steady").getString("id");
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger ok = new AtomicInteger();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      Set<String> seen = ConcurrentHashMap.newKeySet();
      List<Future<Void>> loops = new ArrayList<>();
      for (int i = 0; i < 4; i++) loops.add(loop(ferry, stop, ok, failures, seen));

      List<String> ids = new ArrayList<>(List.of(first));
      for (int i = 0; i < 20; i++) {
        JsonObject d = ferry.deploy("slow-ready", "steady");
        assertEquals("deployed", d.getString("state"), d.encodePrettily());
        ids.add(d.getString("id"));
      }
      for (int i = 0; i < 2; i++) {
        var r = ferry.rollback("steady", null);
        assertEquals(202, r.statusCode(), r.bodyAsString());
        assertEquals("deployed", ferry.awaitFinal(r.bodyAsJsonObject().getString("id")).getString("state"));
      }
      TestPlatform.sleep(200);
      stop.set(true);
      Future.all(loops).await();

      assertEquals(List.of(), List.copyOf(failures));
      assertTrue(ok.get() > 100, "only " + ok.get() + " requests made it");
      // the stream saw the versions change under it
      assertTrue(seen.size() > 10, "answers came from " + seen);
      // two rollbacks went two versions back: the current one runs that version's artifact
      JsonObject current = ferry.api(HttpMethod.GET, "/api/v1/services/steady").bodyAsJsonObject().getJsonObject("current");
      assertEquals(ids.get(ids.size() - 3), current.getString("source"), current.encodePrettily());
      ferry.awaitRunning(1);
    }
  }

  /**
   * Requests {@code steady} through the proxy, one after another, until {@code stop}. Each answer
   * starts the next request from its handler, not by chaining futures: a chain as long as the run
   * overflows the stack when it finally completes.
   */
  private static Future<Void> loop(TestPlatform ferry, AtomicBoolean stop, AtomicInteger ok, ConcurrentLinkedQueue<String> failures,
                                   Set<String> seen) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    next(ferry, stop, ok, failures, seen, done);
    return done.future();
  }

  private static void next(TestPlatform ferry, AtomicBoolean stop, AtomicInteger ok, ConcurrentLinkedQueue<String> failures,
                           Set<String> seen, io.vertx.core.Promise<Void> done) {
    if (stop.get()) {
      done.complete();
      return;
    }
    ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/").putHeader("Host", "steady.localhost").timeout(30_000).send()
        .onComplete(ar -> {
          try {
            if (ar.failed()) {
              failures.add(ar.cause().toString());
            } else if (ar.result().statusCode() != 200) {
              failures.add(ar.result().statusCode() + " " + ar.result().bodyAsString());
            } else {
              JsonObject body = ar.result().bodyAsJsonObject();
              if (!body.getBoolean("started") || !body.getBoolean("ready")) failures.add("not ready: " + body.encode());
              else ok.incrementAndGet();
              seen.add(body.getString("deployment"));
            }
          } catch (RuntimeException e) {
            failures.add(e.toString());
          }
          next(ferry, stop, ok, failures, seen, done);
        });
  }
}
