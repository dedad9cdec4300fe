package dev.ferry.api;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.LogLine;
import dev.ferry.deployment.StateName;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The logs, stored and live.
 *
 * <p>{@code GET /api/v1/deployments/{id}/logs}: the stored log as NDJSON; with a WebSocket upgrade,
 * the backlog, then live lines, then a final frame {@code {"event":"end","state":...,"deployment":{...}}},
 * then close. The watcher ends when the deployment is {@code deployed} (or already past it,
 * {@code sleeping}), {@code error}, {@code stopped} or {@code deleted}; with {@code ?follow=true} it
 * stays on while the service runs (its runtime log, through sleep and wake) and ends at
 * {@code error}, {@code stopped} or {@code deleted}.
 *
 * <p>{@code GET /api/v1/services/{name}/logs} (WebSocket): the service, across its deployments. The
 * backlog of its latest deployment ({@code ?from=current}: the one serving), then every line of every
 * deployment of the service as it happens (each line names its {@code deployment}; a rolled-back
 * deployment from its reactivation on), a frame {@code {"event":"state","deployment":{...}}} after
 * the backlog (where that deployment stands) and at each state change, and {@code {"event":"end","state":"deleted","service":...}} when it is deleted.
 *
 * <p>Each watcher has a bounded queue: a watcher that reads too slowly loses lines (and is told how
 * many, in a {@code stage: "stream"} notice line); the build never waits for it.
 */
final class LogStream {

  /** Lines a watcher may have waiting before new ones are dropped. */
  static final int DEFAULT_MAX_PENDING = 1_000;

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
    LogWatcher w = new LogWatcher(vertx, ledger, view, maxPending, id, null, follow ? StateName.FINAL_FOR_RUN : StateName.FINAL_FOR_BUILD);
    LogWatcher.Source source = w.source(id);
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
    LogWatcher w = new LogWatcher(vertx, ledger, view, maxPending, null, name, Set.of());
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

  static List<JsonObject> json(List<LogLine> lines) {
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
}
