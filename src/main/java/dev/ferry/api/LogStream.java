package dev.ferry.api;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Ledger;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code GET /api/v1/deployments/{id}/logs}: the stored log as NDJSON; with a WebSocket upgrade,
 * the backlog, then live lines, then a final frame {@code {"event":"end","state":...,"deployment":{...}}},
 * then close. The watcher ends when the deployment is {@code deployed} (or already past it,
 * {@code sleeping}), {@code error}, {@code stopped} or {@code deleted}; with {@code ?follow=true} it
 * stays on while the service runs (its runtime log, through sleep and wake) and ends at
 * {@code error}, {@code stopped} or {@code deleted}.
 *
 * <p>Each watcher has a bounded queue: a watcher that reads too slowly loses lines (and is told how
 * many, in a {@code stage: "stream"} notice line); the build never waits for it.
 */
final class LogStream {

  static final Set<String> BUILD_END = Set.of("deployed", "sleeping", "error", "stopped", "deleted");
  static final Set<String> RUN_END = Set.of("error", "stopped", "deleted");
  /** Lines a watcher may have waiting before new ones are dropped. */
  static final int DEFAULT_MAX_PENDING = 1_000;
  /** Bytes the WebSocket may have unsent before lines wait in the queue. */
  private static final int WRITE_QUEUE_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final Ledger ledger;
  private final int maxPending;

  LogStream(Vertx vertx, Ledger ledger, int maxPending) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.maxPending = maxPending;
  }

  private record Snapshot(JsonObject deployment, List<JsonObject> lines) {
  }

  void handle(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!isUpgrade(ctx)) {
      vertx.executeBlocking(() -> snapshot(id)).onComplete(ar -> {
        if (ar.failed()) ctx.fail(ar.cause());
        else if (ar.result().isEmpty()) Api.error(ctx, 404, "not_found", "No deployment " + id);
        else ndjson(ctx, ar.result().get().lines());
      });
      return;
    }
    ctx.request().pause();
    boolean follow = "true".equalsIgnoreCase(ctx.queryParams().get("follow"));
    Watcher w = new Watcher(id, follow ? RUN_END : BUILD_END);
    // subscribe before reading the backlog, and let the recorder store what it was sent before
    // that, so no line falls between the two
    w.subscribe()
        .compose(x -> vertx.eventBus().request(Addresses.FLUSH, null))
        .compose(x -> vertx.executeBlocking(() -> snapshot(id)))
        .onComplete(ar -> {
          if (ar.failed() || ar.result().isEmpty()) {
            w.unsubscribe();
            if (ar.failed()) ctx.fail(ar.cause());
            else Api.error(ctx, 404, "not_found", "No deployment " + id);
            return;
          }
          Snapshot s = ar.result().get();
          ctx.request().toWebSocket()
              .onSuccess(socket -> w.attach(socket, s))
              .onFailure(e -> w.unsubscribe());
        });
  }

  private Optional<Snapshot> snapshot(String id) {
    return ledger.deployment(id).map(d -> new Snapshot(d, ledger.logs(id)));
  }

  /** What makes a line the same line, whichever way it came (the ledger may not keep every field). */
  static String identity(JsonObject line) {
    return line.getString("ts") + '\u0000' + line.getString("stage") + '\u0000' + line.getString("message");
  }

  private static boolean isUpgrade(RoutingContext ctx) {
    String upgrade = ctx.request().getHeader(HttpHeaders.UPGRADE);
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }

  private static void ndjson(RoutingContext ctx, List<JsonObject> lines) {
    StringBuilder sb = new StringBuilder();
    for (JsonObject l : lines) sb.append(l.encode()).append('\n');
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/x-ndjson").end(sb.toString());
  }

  /** One WebSocket watching one deployment. Runs on the API's event loop. */
  private final class Watcher {
    private final String id;
    private final Set<String> endStates;
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    /** Lines heard before the socket was open. */
    private final List<JsonObject> early = new ArrayList<>();
    /**
     * The backlog's lines not yet heard live. A line is stored before it is published, so one
     * stored in time for the backlog can still be heard live afterwards, even once the socket is
     * open; each is heard at most once, so it leaves the set when it is.
     */
    private final Set<String> unheard = new HashSet<>();
    private final ArrayDeque<String> pending = new ArrayDeque<>();
    private ServerWebSocket socket;
    private long dropped;
    private JsonObject end;
    private boolean closed;

    Watcher(String id, Set<String> endStates) {
      this.id = id;
      this.endStates = endStates;
    }

    Future<Void> subscribe() {
      MessageConsumer<JsonObject> logs = vertx.eventBus().consumer(Addresses.logs(id), m -> onLine(m.body()));
      MessageConsumer<JsonObject> events = vertx.eventBus().consumer(Addresses.EVENTS, m -> onEvent(m.body()));
      consumers.add(logs);
      consumers.add(events);
      return Future.all(logs.completion(), events.completion()).mapEmpty();
    }

    void unsubscribe() {
      consumers.forEach(MessageConsumer::unregister);
      consumers.clear();
    }

    void attach(ServerWebSocket ws, Snapshot s) {
      socket = ws;
      ws.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
      ws.closeHandler(v -> {
        closed = true;
        unsubscribe();
      });
      ws.exceptionHandler(e -> ws.close());
      // the backlog in full, then what was heard meanwhile that the backlog does not hold
      for (JsonObject l : s.lines()) {
        unheard.add(identity(l));
        pending.add(l.encode());
      }
      for (JsonObject line : early) live(line);
      early.clear();
      if (end == null && endStates.contains(s.deployment().getString("state"))) end = s.deployment();
      pump();
    }

    private void onLine(JsonObject line) {
      if (socket == null) {
        if (early.size() < maxPending) early.add(line);
        else dropped++;
      } else {
        live(line);
        pump();
      }
    }

    /** Queues a line heard live unless the backlog already held it. */
    private void live(JsonObject line) {
      if (!unheard.remove(identity(line))) enqueue(line.encode());
    }

    private void onEvent(JsonObject event) {
      if (!id.equals(event.getString("id")) || !endStates.contains(event.getString("state"))) return;
      end = event;
      if (socket != null) pump();
    }

    private void enqueue(String line) {
      if (pending.size() >= maxPending) {
        dropped++;
        return;
      }
      flushDropped();
      pending.add(line);
    }

    private void flushDropped() {
      if (dropped == 0) return;
      pending.add(new JsonObject().put("ts", Instant.now().toString()).put("level", "warn").put("stage", "stream")
          .put("message", dropped + (dropped == 1 ? " line" : " lines") + " dropped: this watcher reads more slowly than the log is written")
          .put("deployment", id).encode());
      dropped = 0;
    }

    /** Writes what the socket takes now; the rest waits for its drain. */
    private void pump() {
      if (closed) return;
      while (!pending.isEmpty() && !socket.writeQueueFull()) socket.writeTextMessage(pending.poll());
      if (!pending.isEmpty()) {
        socket.drainHandler(v -> pump());
        return;
      }
      if (end != null) {
        flushDropped();
        if (!pending.isEmpty()) {
          pump();
          return;
        }
        closed = true;
        unsubscribe();
        socket.writeTextMessage(new JsonObject().put("event", "end").put("state", end.getString("state"))
            .put("deployment", end).encode());
        socket.close();
      }
    }
  }
}
