package dev.ferry.api;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.function.Predicate;

/**
 * Secrets and resources of a service: {@code PUT/GET /api/v1/services/{name}/secrets},
 * {@code DELETE .../secrets/{key}}, {@code GET .../resources}. Values go in, only names come out
 * (and database passwords with {@code ?reveal=true}). A change of secrets restarts the service's
 * current deployment with the new values (a request to {@code ferry.refresh}).
 */
final class ResourceRoutes {

  /** The largest secrets body. */
  static final int MAX_BODY = 1024 * 1024;
  /** How long a secrets change waits for the restart it causes to be under way. */
  private static final long REFRESH_TIMEOUT_MS = 120_000;

  private final Vertx vertx;
  private final Resources resources;
  private final LedgerReader ledger;
  private final Predicate<RoutingContext> validName;
  private final PublicView view;

  ResourceRoutes(Vertx vertx, Resources resources, LedgerReader ledger, Predicate<RoutingContext> validName, PublicView view) {
    this.view = view;
    this.vertx = vertx;
    this.resources = resources;
    this.ledger = ledger;
    this.validName = validName;
  }

  void mount(Router router) {
    router.put("/api/v1/services/:name/secrets").handler(this::setSecrets);
    router.get("/api/v1/services/:name/secrets").handler(this::listSecrets);
    router.delete("/api/v1/services/:name/secrets/:key").handler(this::unsetSecret);
    router.get("/api/v1/services/:name/resources").handler(this::listResources);
  }

  private void setSecrets(RoutingContext ctx) {
    ctx.request().pause();
    if (!validName.test(ctx)) return;
    String name = ctx.pathParam("name");
    readBody(ctx).onSuccess(body -> {
      JsonObject values;
      try {
        values = body.toJsonObject();
      } catch (DecodeException | ClassCastException e) {
        Api.error(ctx, 400, "bad_request", "The body must be a JSON object of secrets: {\"KEY\": \"value\", ...}");
        return;
      }
      vertx.executeBlocking(() -> resources.setSecrets(name, values), false).onComplete(ar -> {
        if (ar.failed() && ar.cause() instanceof IllegalArgumentException bad) {
          Api.error(ctx, 400, "bad_request", bad.getMessage());
        } else if (ar.failed()) {
          ctx.fail(ar.cause());
        } else {
          answerChanged(ctx, name, ar.result(), new JsonObject().put("changed", ar.result()));
        }
      });
    });
  }

  private void unsetSecret(RoutingContext ctx) {
    if (!validName.test(ctx)) return;
    String name = ctx.pathParam("name"), key = ctx.pathParam("key");
    vertx.executeBlocking(() -> resources.unsetSecret(name, key), false).onComplete(ar -> {
      if (ar.failed()) ctx.fail(ar.cause());
      else if (!ar.result()) Api.error(ctx, 404, "not_found", "Service " + name + " has no secret " + key);
      else answerChanged(ctx, name, List.of(key), new JsonObject().put("removed", key));
    });
  }

  /** Restarts the service with the changed secrets (if any changed and it has a deployment), then answers. */
  private void answerChanged(RoutingContext ctx, String name, List<String> changed, JsonObject answer) {
    Future<JsonObject> restarted = changed.isEmpty() ? Future.succeededFuture()
        : vertx.eventBus().<JsonObject>request(Addresses.REFRESH, new JsonObject().put("service", name)
                .put("why", "secrets changed: " + String.join(", ", changed)),
                // a refresh first waits for a deployment on its way (a build and a start) to end
                new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(REFRESH_TIMEOUT_MS))
            .map(io.vertx.core.eventbus.Message::body)
            .compose(d -> d == null ? Future.succeededFuture() : Api.recorded(vertx, d.getString("id")).map(d));
    restarted
        .compose(d -> vertx.executeBlocking(() -> {
          answer.put("service", name).put("secrets", resources.secrets(name));
          if (d != null) answer.put("deployment", view.of(d));
          return answer;
        }, false))
        .onSuccess(ctx::json)
        .onFailure(ctx::fail);
  }

  private void listSecrets(RoutingContext ctx) {
    if (!validName.test(ctx)) return;
    String name = ctx.pathParam("name");
    known(ctx, name, () -> new JsonObject().put("service", name).put("secrets", resources.secrets(name)));
  }

  private void listResources(RoutingContext ctx) {
    if (!validName.test(ctx)) return;
    String name = ctx.pathParam("name");
    String reveal = ctx.request().getParam("reveal", "false");
    if (!reveal.equals("true") && !reveal.equals("false")) {
      Api.error(ctx, 400, "bad_request", "reveal is true or false, not " + reveal);
      return;
    }
    known(ctx, name, () -> resources.describe(name, reveal.equals("true")));
  }

  /** Answers {@code what} for a service the platform knows (deployed, or with secrets or databases); else 404. */
  private void known(RoutingContext ctx, String name, java.util.concurrent.Callable<JsonObject> what) {
    vertx.executeBlocking(() -> ledger.service(name).isPresent() || resources.has(name) ? what.call() : null, false)
        .onComplete(ar -> {
          if (ar.failed()) ctx.fail(ar.cause());
          else if (ar.result() == null) Api.error(ctx, 404, "not_found", "No service named " + name);
          else ctx.json(ar.result());
        });
  }

  /** The request's body, up to {@link #MAX_BODY} bytes (413 past it). */
  private static Future<Buffer> readBody(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    Promise<Buffer> p = Promise.promise();
    Buffer body = Buffer.buffer();
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && length.trim().matches("\\d{1,18}") && Long.parseLong(length.trim()) > MAX_BODY) {
      tooLarge(ctx);
      return p.future();
    }
    req.handler(b -> {
      if (p.future().isComplete()) return;
      if (body.length() + b.length() > MAX_BODY) {
        p.tryFail("too large");
        tooLarge(ctx);
        return;
      }
      body.appendBuffer(b);
    });
    req.exceptionHandler(p::tryFail);
    req.endHandler(v -> p.tryComplete(body));
    req.resume();
    return p.future();
  }

  private static void tooLarge(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    Api.error(ctx, 413, "too_large", "The body is over " + MAX_BODY + " bytes");
  }
}
