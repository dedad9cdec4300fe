package dev.ferry.api;

import dev.ferry.Config;
import dev.ferry.DataDir;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.ServiceRow;
import dev.ferry.deployment.LiveView;
import dev.ferry.deployment.Transitions;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** The REST API on the API port; see the README for every route. */
public final class Api extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Api.class);

  /** What a 503 asks a client to wait: about the time a build takes. */
  static final int RETRY_AFTER_SECONDS = 5;

  private final Config config;
  private final DataDir dataDir;
  private final LedgerReader ledger;
  private final Transitions transitions;
  private final ApiToken token;
  private final LiveView live;
  private final Resources resources;
  private final JsonObject info;
  private HttpServer server;
  private PublicView view;

  /** {@code info}: what {@code /api/v1/info} reports of the platform besides its limits (the sandbox). */
  public Api(Config config, DataDir dataDir, LedgerReader ledger, Transitions transitions, ApiToken token,
             LiveView live, Resources resources, JsonObject info) {
    this.config = config;
    this.info = info;
    this.resources = resources;
    this.live = live;
    this.token = token;
    this.dataDir = dataDir;
    this.ledger = ledger;
    this.transitions = transitions;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health").handler(ctx -> ctx.json(new JsonObject().put("status", "up")));
    // every API call, the upload's before a byte of its body is read, needs the token
    router.route("/api/*").handler(token::check);
    // the local repository is Ferry's setting, else settings.xml's (Maven's default), else <dataDir>/maven
    view = new PublicView(dataDir.root(), dataDir.root().resolve(config.maven().localRepository() == null ? "maven" : config.maven().localRepository()),
        java.nio.file.Path.of(System.getProperty("user.home"), ".m2", "repository"));
    Observability observability = new Observability(vertx, config, ledger, token, view).withInfo(info);
    observability.mount(router);
    router.post("/api/v1/services/:name/deployments").handler(new Uploads(vertx, config, dataDir, transitions, view)::handle);
    router.get("/api/v1/services").handler(this::listServices);
    router.get("/api/v1/services/:name").handler(this::getService);
    router.delete("/api/v1/services/:name").handler(this::deleteService);
    router.get("/api/v1/services/:name/deployments").handler(this::listDeployments);
    router.get("/api/v1/deployments/:id").handler(this::getDeployment);
    router.post("/api/v1/services/:name/rollback").handler(this::rollback);
    router.post("/api/v1/services/:name/restart").handler(this::restart);
    router.post("/api/v1/token/rotate").handler(this::rotateToken);
    new ResourceRoutes(vertx, resources, ledger, ctx -> validName(ctx, ctx.pathParam("name")), view).mount(router);
    router.route("/api/*").handler(ctx -> error(ctx, 404, "not_found", "No such API route: " + ctx.request().method() + " " + ctx.request().path()));
    router.errorHandler(500, ctx -> {
      log.error("API failure on {}", ctx.request().path(), ctx.failure());
      error(ctx, 500, "internal", view.scrub("Internal error: " + ctx.failure()));
    });
    dev.ferry.ConnectionGuard guard = dev.ferry.ConnectionGuard.of("API", config.server());
    return guard.guard(vertx.createHttpServer(guard.options(new io.vertx.core.http.HttpServerOptions())))
        .requestHandler(router).listen(config.api().port(), config.host())
        .recover(e -> Future.failedFuture(dev.ferry.ConnectionGuard.cannotListen("the API", config.host(), config.api().port(), e)))
        .onSuccess(s -> server = s)
        .compose(s -> observability.start());
  }

  public int actualPort() {
    return server.actualPort();
  }

  private void listServices(RoutingContext ctx) {
    read(ctx, () -> new JsonObject().put("services", new JsonArray(ledger.services().stream().map(ServiceRow::toJson).toList())));
  }

  private void getService(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    read(ctx, () -> ledger.service(name).map(s -> live.addToService(s.toJson(), name)).orElse(null), "No service named " + name);
  }

  private void listDeployments(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    read(ctx, () -> {
      List<DeploymentRow> ds = ledger.deployments(name);
      return ds.isEmpty() ? null : new JsonObject().put("service", name)
          .put("deployments", new JsonArray(ds.stream().map(DeploymentRow::toJson).toList()));
    }, "No service named " + name);
  }

  private void getDeployment(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    read(ctx, () -> ledger.deployment(id).map(d -> live.addTo(d.toJson(), id)).orElse(null), "No deployment " + id);
  }

  /** Undeploys and deletes a service; its databases and secrets stay unless {@code ?purge=true}. */
  private void deleteService(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!validName(ctx, name)) return;
    String purgeParam = ctx.request().getParam("purge", "false");
    if (!purgeParam.equals("true") && !purgeParam.equals("false")) {
      error(ctx, 400, "bad_request", "purge is true or false, not " + purgeParam);
      return;
    }
    boolean purge = purgeParam.equals("true");
    vertx.executeBlocking(() -> ledger.service(name).isPresent() ? Boolean.TRUE : purge && resources.has(name) ? Boolean.FALSE : null)
        .onComplete(ar -> {
          if (ar.failed()) {
            ctx.fail(ar.cause());
          } else if (ar.result() == null) {
            error(ctx, 404, "not_found", "No service named " + name);
          } else {
            // a service deleted before keeps its resources until purged
            // answered once the deletion is in the ledger, so a read that follows sees it
            Future<Integer> undeployed = ar.result()
                ? vertx.eventBus().<Integer>request(Addresses.DELETE, name)
                    .compose(m -> vertx.eventBus().request(Addresses.FLUSH, null).map(m.body())) : Future.succeededFuture(0);
            undeployed
                .compose(n -> {
                  JsonObject answer = new JsonObject().put("service", name).put("deleted", true).put("undeployed", n);
                  return purge ? vertx.executeBlocking(() -> answer.put("purged", resources.purge(name)), false) : Future.succeededFuture(answer);
                })
                .onSuccess(ctx::json)
                .onFailure(e -> {
                  // the databases' server is not there (down, refusing): say so, it is not the API's failure
                  if (e instanceof dev.ferry.deployment.StageException) error(ctx, 503, "unavailable", "Cannot purge " + name + ": " + e.getMessage());
                  else ctx.fail(e);
                });
          }
        });
  }

  /** Re-activates an earlier deployment (body {@code {"deployment": id}}, or empty for the previous one). */
  private void rollback(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!validName(ctx, name)) return;
    ctx.request().body().onFailure(ctx::fail).onSuccess(body -> {
      String id;
      try {
        id = body.length() == 0 ? null : body.toJsonObject().getString("deployment");
      } catch (RuntimeException e) {
        error(ctx, 400, "bad_request", "The body must be empty or {\"deployment\": \"<id>\"}");
        return;
      }
      activated(ctx, Addresses.ROLLBACK, new JsonObject().put("service", name).put("deployment", id));
    });
  }

  /** Starts a crashed service again (its newest deployment, which crashed), without rebuilding. */
  private void restart(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!validName(ctx, name)) return;
    activated(ctx, Addresses.RESTART, new JsonObject().put("service", name));
  }

  /** Replaces the API token with a new one, answered once; the token of this very request is refused from the next one on. */
  private void rotateToken(RoutingContext ctx) {
    vertx.executeBlocking(token::rotate, false).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader("Cache-Control", "no-store");
        ctx.json(new JsonObject().put("token", ar.result()).put("file", token.file().toString()));
      } else if (ar.cause() instanceof ApiToken.Configured c) {
        error(ctx, 409, "conflict", c.getMessage());
      } else {
        ctx.fail(ar.cause());
      }
    });
  }

  /** Asks {@code address} to activate a stored artifact; answers 202 with the new deployment once recorded, or why it could not be. */
  private void activated(RoutingContext ctx, String address, JsonObject request) {
    vertx.eventBus().<JsonObject>request(address, request)
        .map(Message::body)
        .compose(d -> recorded(vertx, d.getString("id")).map(d))
        .onSuccess(d -> ctx.response().setStatusCode(202)
            .putHeader(HttpHeaders.LOCATION, "/api/v1/deployments/" + d.getString("id"))
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(view.of(d).encode()))
        .onFailure(e -> refused(ctx, e));
  }

  /** A stage's refusal as the API answers it: not found 404, refused 409; anything else fails the request. */
  private void refused(RoutingContext ctx, Throwable e) {
    if (e instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == Addresses.NOT_FOUND) {
      error(ctx, 404, "not_found", view.scrub(r.getMessage()));
    } else if (e instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == Addresses.REFUSED) {
      error(ctx, 409, "conflict", view.scrub(r.getMessage()));
    } else {
      ctx.fail(e);
    }
  }

  /** Answers with what {@code query} returns, read off the event loop (the ledger may block). */
  private void read(RoutingContext ctx, Callable<JsonObject> query) {
    read(ctx, query, "Not found");
  }

  private void read(RoutingContext ctx, Callable<JsonObject> query, String notFound) {
    vertx.executeBlocking(query).onComplete(ar -> {
      if (ar.failed()) ctx.fail(ar.cause());
      else if (ar.result() == null) error(ctx, 404, "not_found", notFound);
      else ctx.json(view.of(ar.result()));
    });
  }

  /** {@code d} once it, as it is or as a later state, is in the ledger: a read that follows finds it. */
  static Future<Deployment> recorded(Vertx vertx, Deployment d) {
    return vertx.eventBus().request(Addresses.RECORDED, d).map(d);
  }

  /** Deployment {@code id} once it is in the ledger. */
  static Future<Void> recorded(Vertx vertx, String id) {
    return vertx.eventBus().request(Addresses.RECORDED, id).mapEmpty();
  }

  static boolean validName(RoutingContext ctx, String name) {
    Optional<String> problem = Deployment.nameProblem(name);
    problem.ifPresent(p -> refuse(ctx, 400, "bad_request", p));
    return problem.isEmpty();
  }

  /** Answers an error before reading the body, and closes the connection so the body is not read. */
  static void refuse(RoutingContext ctx, int status, String code, String message) {
    if (ctx.response().ended()) return;
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    error(ctx, status, code, message);
  }

  static void error(RoutingContext ctx, int status, String code, String message) {
    if (ctx.response().ended()) return;
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(new JsonObject().put("error", code).put("message", message).encode());
  }

}
