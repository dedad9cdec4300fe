package dev.ferry.runner;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the warm-up's threads log is no service's, even once a service is loaded beside it. */
class WarmupOutputTest {

  @Test
  void lines_of_the_warm_ups_vertx_threads_name_no_deployment_while_a_service_is_the_runners_only_one() throws Exception {
    // a service loaded while the warm-up runs: the runner's only deployment
    Output output = new Output((deployment, level, stage, message) -> { }, () -> "0mservice0001");
    CompletableFuture<String> onItsLoop = new CompletableFuture<>();
    // asked on the warm-up's event loop, between its requests
    Warmup.run(30_000, () -> {
      if (Thread.currentThread().getName().startsWith("vert.x-")) onItsLoop.complete(output.deploymentOfCurrentThread());
      return onItsLoop.isDone();
    });
    assertEquals(Warmup.NOBODY, onItsLoop.get(1, TimeUnit.SECONDS));
    // the runner's own threads still speak for its only deployment
    assertEquals("0mservice0001", output.deploymentOfCurrentThread());
  }
}
