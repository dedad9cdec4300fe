package dev.ferry.cli;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code ferry server} and {@code ferry dev} do with their platform's close when the process ends (Ctrl-C, SIGTERM). */
class ServerCloseTest {

  @Test
  void a_close_that_hangs_is_reported_with_every_threads_stack_and_not_waited_for_past_its_limit() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    ServerCommand.awaitClose(Promise.promise().future(), 200, new PrintStream(err, true, StandardCharsets.UTF_8));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    String said = err.toString(StandardCharsets.UTF_8);
    assertTrue(ms >= 200 && ms < 10_000, "returned after " + ms + " ms");
    assertTrue(said.contains(ServerCommand.NOT_CLOSED + " within 200 ms; exiting anyway"), said);
    // where each thread is: this one, waiting in the close
    assertTrue(said.contains('"' + Thread.currentThread().getName() + '"') && said.contains("dev.ferry.cli.ServerCommand.awaitClose("), said);
  }

  @Test
  void a_close_that_completes_or_fails_says_nothing() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(err, true, StandardCharsets.UTF_8);
    ServerCommand.awaitClose(Future.succeededFuture(), 200, out);
    ServerCommand.awaitClose(Future.failedFuture("a verticle's stop failed"), 200, out);
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }
}
