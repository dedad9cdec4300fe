package dev.ferry.proxy;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Requests for a service on its way wait for it, and wake it if it turns out to sleep. */
class RouteTableTest {

  @Test
  void a_request_held_for_a_service_then_restored_asleep_wakes_it_and_gets_its_route() throws Exception {
    ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    try {
      Routes routes = Routes.create();
      // after a restart: expected from the ledger, asleep only once the runtime restores it
      routes.expect("napper", 60_000);
      Future<Routes.Backend> held = routes.await("napper", 30_000, loop);
      AtomicInteger wakes = new AtomicInteger();
      routes.sleep("napper", 30_000, () -> {
        wakes.incrementAndGet();
        routes.put("napper", new Routes.Backend("d1", 20_001));
      });
      assertEquals(1, wakes.get(), "the held request woke it");
      assertEquals("d1", held.toCompletionStage().toCompletableFuture().get().deploymentId());
    } finally {
      loop.shutdownNow();
    }
  }

  @Test
  void a_service_put_to_sleep_with_nobody_waiting_is_not_woken() {
    Routes routes = Routes.create();
    routes.put("idle", new Routes.Backend("d2", 20_002));
    AtomicInteger wakes = new AtomicInteger();
    routes.sleep("idle", 30_000, wakes::incrementAndGet);
    routes.remove("idle", "d2");
    assertEquals(0, wakes.get());
    assertFalse(routes.isExpected("idle"));
  }
}
