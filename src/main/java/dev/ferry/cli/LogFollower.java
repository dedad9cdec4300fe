package dev.ferry.cli;

import io.vertx.core.json.JsonObject;

import java.io.PrintWriter;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Follows a deployment's log over the WebSocket until its end frame, printing each line once. A
 * stream that drops is reopened (the server resends the backlog; lines already shown are skipped).
 */
final class LogFollower {

  static final int MAX_RECONNECTS = 20;

  private final FerryClient client;
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean json;
  private final Set<String> seen = new HashSet<>();

  /** {@code out} null: print nothing, only wait for the end; {@code json}: print lines as JSON. */
  LogFollower(FerryClient client, PrintWriter out, PrintWriter err, boolean json) {
    this.client = client;
    this.out = out;
    this.err = err;
    this.json = json;
  }

  /** Returns the deployment in its final state ({@code follow}: stay on while it runs). */
  JsonObject follow(String id, boolean follow) throws InterruptedException {
    AtomicReference<JsonObject> end = new AtomicReference<>();
    for (int attempt = 0; ; attempt++) {
      Throwable failure = null;
      try {
        client.watch(id, follow, frame -> {
          if ("end".equals(frame.getString("event"))) end.set(frame.getJsonObject("deployment"));
          else print(frame);
        }).await();
      } catch (FerryClient.ApiException e) {
        throw e;
      } catch (RuntimeException e) {
        failure = e;
      }
      if (end.get() != null) return end.get();
      if (attempt >= MAX_RECONNECTS) {
        throw new IllegalStateException("Lost the log stream of " + id + (failure == null ? "" : ": " + failure.getMessage()));
      }
      err.println("(log stream dropped" + (failure == null ? "" : ": " + failure.getMessage()) + "; reconnecting)");
      err.flush();
      Thread.sleep(Math.min(2_000, 100L * (attempt + 1)));
    }
  }

  private void print(JsonObject line) {
    synchronized (seen) {
      if (!seen.add(line.getString("ts") + '\u0000' + line.getString("stage") + '\u0000' + line.getString("message"))) return;
    }
    if (out == null) return;
    if (json) {
      out.println(line.encode());
      out.flush();
      return;
    }
    String level = line.getString("level", "info");
    out.println(String.format("%-8s %s%s", "[" + line.getString("stage", "") + "]",
        "info".equals(level) ? "" : level.toUpperCase(java.util.Locale.ROOT) + " ", line.getString("message", "")));
    out.flush();
  }
}
