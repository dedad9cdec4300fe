package dev.ferry.run;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** At most so many runners start at once; the rest wait their turn, in order, and fail if the platform closes first. */
class LaunchQueueTest {

  @Test
  void no_more_than_the_limit_start_at_once_and_the_rest_start_in_order_as_each_ends() {
    LaunchQueue queue = new LaunchQueue(2);
    List<Promise<String>> started = new ArrayList<>();
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      results.add(queue.submit(() -> {
        Promise<String> p = Promise.promise();
        started.add(p);
        return p.future();
      }));
    }
    assertEquals(2, started.size(), "two start at once");
    started.get(1).complete("b");
    assertEquals(3, started.size(), "one ended: the next starts");
    started.get(0).fail("a failed");
    assertEquals(4, started.size(), "a failure makes room too");
    started.get(2).complete("c");
    started.get(3).complete("d");
    started.get(4).complete("e");
    assertTrue(results.get(0).failed());
    assertEquals(List.of("b", "c", "d", "e"), results.subList(1, 5).stream().map(Future::result).toList());
  }

  @Test
  void launches_still_waiting_when_it_closes_fail_and_never_start() {
    LaunchQueue queue = new LaunchQueue(1);
    Promise<String> first = Promise.promise();
    int[] starts = {0};
    Future<String> running = queue.submit(() -> {
      starts[0]++;
      return first.future();
    });
    Future<String> waiting = queue.submit(() -> {
      starts[0]++;
      return Future.succeededFuture("never");
    });
    Future<Void> closed = queue.close();
    assertTrue(waiting.failed());
    assertInstanceOf(Runner.Refused.class, waiting.cause());
    assertFalse(closed.isComplete(), "the close waits for the launch under way");
    boolean[] firstHeardBeforeTheClose = {false};
    running.onComplete(x -> firstHeardBeforeTheClose[0] = !closed.isComplete());
    first.complete("done");
    assertEquals("done", running.result());
    assertTrue(closed.succeeded(), "the close completes once it has ended");
    assertTrue(firstHeardBeforeTheClose[0], "after the launch's own future: its runner is known when the close completes");
    assertEquals(1, starts[0], "the waiting one never started");
    assertFalse(queue.submit(() -> Future.succeededFuture("late")).succeeded(), "nothing starts once closed");
  }

  @Test
  void a_close_with_nothing_under_way_completes_at_once() {
    assertTrue(new LaunchQueue(2).close().succeeded());
  }
}
