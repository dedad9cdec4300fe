package dev.ferry.api;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.LogLine;
import dev.ferry.deployment.StateName;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The logs, stored and live.
 *
 * <p>{@code GET /api/v1/deployments/{id}/logs}: the stored log as NDJSON; with a WebSocket upgrade,
 * the backlog, then live lines, then a final frame {@code {"event":"end","state":...,"deployment":{...}}},
 * then close. The watcher ends when the deployment reaches a state final for a build
 * ({@link StateName#FINAL_FOR_BUILD}: {@code deployed} or past it, or {@code error}); with
 * {@code ?follow=true} it stays on while the service runs (its runtime log, through sleep and wake)
 * and ends at a state final for a run ({@link StateName#FINAL_FOR_RUN}: {@code error},
 * {@code crashed}, {@code stopped} or {@code deleted}).
 *
 * <p>{@code GET /api/v1/services/{name}/logs} (WebSocket): the service, across its deployments. The
 * backlog of its latest deployment ({@code ?from=current}: the one serving), then every line of every
 * deployment of the service as it happens (each line names its {@code deployment}), a frame {@code {"event":"state","deployment":{...}}} after
 * the backlog (where that deployment stands) and at each state change, and {@code {"event":"end","state":"deleted","service":...}} when it is deleted.
 *
 * <p>Each watcher has a bounded queue: a watcher that reads too slowly loses lines (and is told how
 * many, in a {@code stage: "stream"} notice line); the build never waits for it.
 */
final class LogStream {

  /** Lines a watcher may have waiting before new ones are dropped. */
  static final int DEFAULT_MAX_PENDING = 1_000;
  /** Bytes the WebSocket may have unsent before lines wait in the queue. */
  private static final int WRITE_QUEUE_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final LedgerReader ledger;
  private final int maxPending;
  private final PublicView view;

  LogStream(Vertx vertx, LedgerReader ledger, int maxPending, PublicView view) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.maxPending = maxPending;
    this.view = view;
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
    Watcher w = new Watcher(id, null, follow ? StateName.FINAL_FOR_RUN : StateName.FINAL_FOR_BUILD);
    Source source = w.source(id);
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
              .onSuccess(socket -> w.attach(socket, s.deployment(), source, s.lines()))
              .onFailure(e -> w.unsubscribe());
        });
  }

  /** {@code GET /api/v1/services/{name}/logs}: the service's log across its deployments (WebSocket only). */
  void handleService(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!isUpgrade(ctx)) {
      Api.error(ctx, 400, "bad_request", "A service's log is a WebSocket: open it with an upgrade, or read a deployment's "
          + "log as NDJSON at /api/v1/deployments/{id}/logs");
      return;
    }
    ctx.request().pause();
    boolean fromCurrent = "current".equalsIgnoreCase(ctx.queryParams().get("from"));
    Watcher w = new Watcher(null, name, Set.of());
    w.subscribe()
        .compose(x -> vertx.executeBlocking(() -> ledger.service(name)))
        .compose(svc -> {
          if (svc.isEmpty()) return Future.succeededFuture(Optional.<Snapshot>empty());
          DeploymentRow current = svc.get().current();
          DeploymentRow latest = svc.get().latest();
          DeploymentRow shown = fromCurrent && current != null ? current : latest;
          // the serving one logs what the service does; the latest may still be building
          for (DeploymentRow d : new DeploymentRow[] {current, latest}) {
            if (d != null && !w.sources.containsKey(d.id())) w.source(d.id()).subscribe();
          }
          return vertx.eventBus().request(Addresses.FLUSH, null)
              .compose(x -> vertx.executeBlocking(() -> snapshot(shown.id())));
        })
        .onComplete(ar -> {
          if (ar.failed() || ar.result().isEmpty()) {
            w.unsubscribe();
            if (ar.failed()) ctx.fail(ar.cause());
            else Api.error(ctx, 404, "not_found", "No service named " + name);
            return;
          }
          Snapshot s = ar.result().get();
          ctx.request().toWebSocket()
              .onSuccess(socket -> w.attach(socket, s.deployment(), w.sources.get(s.deployment().getString("id")), s.lines()))
              .onFailure(e -> w.unsubscribe());
        });
  }

  private Optional<Snapshot> snapshot(String id) {
    return ledger.deployment(id).map(d -> new Snapshot(d.toJson(), json(ledger.logs(id))));
  }

  private static List<JsonObject> json(List<LogLine> lines) {
    return lines.stream().map(LogLine::toJson).toList();
  }

  /** What makes a line the same line, whichever way it came (the ledger may not keep every field). */
  static String identity(JsonObject line) {
    return line.getString("ts") + '\u0000' + line.getString("stage") + '\u0000' + line.getString("message");
  }

  private static boolean isUpgrade(RoutingContext ctx) {
    String upgrade = ctx.request().getHeader(HttpHeaders.UPGRADE);
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }

  private void ndjson(RoutingContext ctx, List<JsonObject> lines) {
    StringBuilder sb = new StringBuilder();
    for (JsonObject l : lines) sb.append(view.of(l).encode()).append('\n');
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/x-ndjson").end(sb.toString());
  }

  /**
   * One deployment's lines within a watcher. Until its backlog is read, what is heard live waits;
   * then the backlog goes out in full, followed by what was heard meanwhile that it does not hold.
   */
  private final class Source {
    private final String id;
    private final Watcher watcher;
    /** Lines (and state frames) heard before the backlog was read. */
    private final List<JsonObject> early = new ArrayList<>();
    /**
     * The backlog's lines not yet heard live. A line is stored before it is published, so one
     * stored in time for the backlog can still be heard live afterwards; each is heard at most
     * once, so it leaves the set when it is.
     */
    private final Set<String> unheard = new HashSet<>();
    private MessageConsumer<JsonObject> consumer;
    private boolean ready;

    Source(Watcher watcher, String id) {
      this.watcher = watcher;
      this.id = id;
    }

    Future<Void> subscribe() {
      consumer = vertx.eventBus().consumer(Addresses.logs(id), m -> heard(m.body()));
      return consumer.completion();
    }

    void unsubscribe() {
      if (consumer != null) consumer.unregister();
      consumer = null;
    }

    void heard(JsonObject line) {
      if (!ready) {
        if (early.size() < maxPending) early.add(line);
        else watcher.dropped++;
        return;
      }
      live(line);
      watcher.pump();
    }

    /** A state frame, in order with the lines. */
    void state(JsonObject frame) {
      if (ready) watcher.enqueue(frame);
      else early.add(frame);
    }

    void backlog(List<JsonObject> lines) {
      for (JsonObject l : lines) {
        unheard.add(identity(l));
        watcher.pending.add(view.of(l).encode());
      }
      ready = true;
      for (JsonObject item : early) {
        if (item.containsKey("event")) watcher.enqueue(item);
        else live(item);
      }
      early.clear();
    }

    /** Queues a line heard live unless the backlog already held it. */
    private void live(JsonObject line) {
      if (!unheard.remove(identity(line))) watcher.enqueue(view.of(line));
    }
  }

  /** One WebSocket watching one deployment, or one service. Runs on the API's event loop. */
  private final class Watcher {
    /** The deployment watched, or null when a service is. */
    private final String id;
    /** The service watched, or null when a deployment is. */
    private final String service;
    private final Set<StateName> endStates;
    private final Map<String, Source> sources = new HashMap<>();
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    /** Events heard before the socket was open (a service's new deployments). */
    private final List<JsonObject> earlyEvents = new ArrayList<>();
    private final ArrayDeque<String> pending = new ArrayDeque<>();
    private ServerWebSocket socket;
    private long dropped;
    private JsonObject end;
    private boolean closed;

    Watcher(String id, String service, Set<StateName> endStates) {
      this.id = id;
      this.service = service;
      this.endStates = endStates;
    }

    Source source(String deployment) {
      Source s = new Source(this, deployment);
      sources.put(deployment, s);
      return s;
    }

    Future<Void> subscribe() {
      MessageConsumer<JsonObject> events = vertx.eventBus().consumer(Addresses.EVENTS, m -> onEvent(m.body()));
      consumers.add(events);
      List<Future<Void>> all = new ArrayList<>(List.of(events.completion()));
      sources.values().forEach(s -> all.add(s.subscribe()));
      return Future.all(all).mapEmpty();
    }

    void unsubscribe() {
      consumers.forEach(MessageConsumer::unregister);
      consumers.clear();
      sources.values().forEach(Source::unsubscribe);
    }

    void attach(ServerWebSocket ws, JsonObject deployment, Source shown, List<JsonObject> lines) {
      socket = ws;
      ws.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
      ws.closeHandler(v -> {
        closed = true;
        unsubscribe();
      });
      ws.exceptionHandler(e -> ws.close());
      shown.backlog(lines);
      // a service's other deployments: live from now on
      sources.values().stream().filter(s -> s != shown).forEach(s -> s.backlog(List.of()));
      if (id != null && end == null && StateName.in(endStates, deployment.getString("state"))) end = deployment;
      // a service's watcher learns where the deployment it joined stands
      if (id == null) enqueue(new JsonObject().put("event", "state").put("deployment", view.of(deployment)));
      earlyEvents.forEach(this::onEvent);
      earlyEvents.clear();
      pump();
    }

    private void onEvent(JsonObject event) {
      if (closed) return;
      if (id != null) {
        if (!id.equals(event.getString("id")) || !StateName.in(endStates, event.getString("state"))) return;
        end = event;
        if (socket != null) pump();
        return;
      }
      if (!service.equals(event.getString("service"))) return;
      if (socket == null) {
        earlyEvents.add(event);
        return;
      }
      String deployment = event.getString("id");
      if (deployment == null) {
        // the service was deleted
        if (StateName.DELETED.is(event.getString("state"))) {
          end = new JsonObject().put("event", "end").put("state", StateName.DELETED.wire()).put("service", service);
          pump();
        }
        return;
      }
      JsonObject frame = new JsonObject().put("event", "state").put("deployment", view.of(event));
      boolean over = StateName.in(StateName.FINAL_FOR_RUN, event.getString("state"));
      Source s = sources.get(deployment);
      if (s == null && over) {
        // one that ended before (a stopped deployment, now deleted): nothing more to follow
        enqueue(frame);
      } else {
        if (s == null) s = follow(deployment);
        s.state(frame);
        if (over) {
          s.unsubscribe();
          sources.remove(deployment);
        }
      }
      pump();
    }

    /** A deployment of the service that is new to this watcher: its log from its start. */
    private Source follow(String deployment) {
      Source s = source(deployment);
      s.subscribe()
          .compose(x -> vertx.eventBus().request(Addresses.FLUSH, null))
          .compose(x -> vertx.executeBlocking(() -> json(ledger.logs(deployment))))
          .onComplete(ar -> {
            if (closed) return;
            s.backlog(ar.succeeded() ? ar.result() : List.of());
            pump();
          });
      return s;
    }

    private void enqueue(JsonObject frame) {
      if (pending.size() >= maxPending) {
        dropped++;
        return;
      }
      flushDropped();
      pending.add(frame.encode());
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
      if (closed || socket == null) return;
      while (!pending.isEmpty() && !socket.writeQueueFull()) socket.writeTextMessage(pending.poll());
      if (!pending.isEmpty()) {
        socket.drainHandler(v -> pump());
        return;
      }
      if (end != null && sources.values().stream().allMatch(s -> s.ready)) {
        flushDropped();
        if (!pending.isEmpty()) {
          pump();
          return;
        }
        closed = true;
        unsubscribe();
        socket.writeTextMessage((id == null ? end
            : new JsonObject().put("event", "end").put("state", end.getString("state")).put("deployment", view.of(end))).encode());
        socket.close();
      }
    }
  }
}
