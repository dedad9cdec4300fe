package dev.ferry.api;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.StateName;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One WebSocket watching one deployment, or one service. Runs on the API's event loop. */
final class LogWatcher {

  /** Bytes the WebSocket may have unsent before lines wait in the queue. */
  private static final int WRITE_QUEUE_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final LedgerReader ledger;
  private final PublicView view;
  private final int maxPending;
  /** The deployment watched, or null when a service is. */
  private final String id;
  /** The service watched, or null when a deployment is. */
  private final String service;
  private final Set<StateName> endStates;
  final Map<String, Source> sources = new HashMap<>();
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  /** Events heard before the socket was open (a service's new deployments). */
  private final List<JsonObject> earlyEvents = new ArrayList<>();
  private final ArrayDeque<String> pending = new ArrayDeque<>();
  private ServerWebSocket socket;
  private long dropped;
  private JsonObject end;
  private boolean closed;

  LogWatcher(Vertx vertx, LedgerReader ledger, PublicView view, int maxPending, String id, String service, Set<StateName> endStates) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.view = view;
    this.maxPending = maxPending;
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
        .compose(x -> vertx.executeBlocking(() -> LogStream.json(ledger.logs(deployment))))
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

  /**
   * One deployment's lines within a watcher. Until its backlog is read, what is heard live waits;
   * then the backlog goes out in full, followed by what was heard meanwhile that it does not hold.
   */
  final class Source {
    private final String id;
    private final LogWatcher watcher;
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

    Source(LogWatcher watcher, String id) {
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
        unheard.add(LogStream.identity(l));
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
      if (!unheard.remove(LogStream.identity(line))) watcher.enqueue(view.of(line));
    }
  }
}
