package dev.ferry.cli;

import io.vertx.core.json.JsonObject;

import java.io.PrintWriter;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Follows a log WebSocket (a deployment's, or a service's across its deployments) until its end
 * frame, printing each line once. A stream that drops is reopened (the server resends the backlog;
 * lines already shown are skipped).
 */
final class LogFollower {

  static final int MAX_RECONNECTS = 20;

  private final FerryClient client;
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean json;
  private final boolean withDeployment;
  private final LogFilter filter;
  private final Set<String> seen = new HashSet<>();
  private Predicate<JsonObject> shown = l -> true;
  private Consumer<JsonObject> states = d -> { };

  /**
   * {@code out} null: print nothing, only wait for the end; {@code json}: print lines as JSON;
   * {@code withDeployment}: each line after its deployment's id.
   */
  LogFollower(FerryClient client, PrintWriter out, PrintWriter err, boolean json, boolean withDeployment, LogFilter filter) {
    this.client = client;
    this.out = out;
    this.err = err;
    this.json = json;
    this.withDeployment = withDeployment;
    this.filter = filter;
  }

  /** Prints only the lines {@code shown} accepts (on top of the filter). */
  LogFollower showing(Predicate<JsonObject> shown) {
    this.shown = shown;
    return this;
  }

  /** {@code states} hears each state frame's deployment (a service's stream), on the client's event loop. */
  LogFollower onState(Consumer<JsonObject> states) {
    this.states = states;
    return this;
  }

  /** Follows {@code path} (with its query) until its end frame, which it returns. */
  JsonObject follow(String path) throws InterruptedException {
    AtomicReference<JsonObject> end = new AtomicReference<>();
    for (int attempt = 0; ; attempt++) {
      Throwable failure = null;
      try {
        client.watch(path, frame -> {
          String event = frame.getString("event");
          if ("end".equals(event)) end.set(frame);
          else if ("state".equals(event)) states.accept(frame.getJsonObject("deployment"));
          else print(frame);
        }).await();
      } catch (FerryClient.ApiException e) {
        throw e;
      } catch (Exception e) {
        failure = e;
      }
      if (end.get() != null) return end.get();
      if (attempt >= MAX_RECONNECTS) {
        throw new IllegalStateException("Lost the log stream " + path + (failure == null ? "" : ": " + failure.getMessage()));
      }
      err.println("(log stream dropped" + (failure == null ? "" : ": " + failure.getMessage()) + "; reconnecting)");
      err.flush();
      Thread.sleep(Math.min(2_000, 100L * (attempt + 1)));
    }
  }

  private void print(JsonObject line) {
    synchronized (seen) {
      if (!seen.add(line.getString("deployment") + '\u0000' + line.getString("ts") + '\u0000' + line.getString("stage")
          + '\u0000' + line.getString("message"))) {
        return;
      }
    }
    if (out == null || !shown.test(line)) return;
    String text = LogFilter.format(line, withDeployment);
    if (!filter.accepts(line, text)) return;
    out.println(json ? line.encode() : text);
    out.flush();
  }
}
