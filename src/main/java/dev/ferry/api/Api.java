package dev.ferry.api;

import dev.ferry.Config;
import dev.ferry.DataDir;
import dev.ferry.build.BuildQueue;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState.Queued;
import dev.ferry.deployment.Ledger;
import dev.ferry.deployment.Recorder;
import dev.ferry.deployment.Transitions;
import dev.ferry.resources.Resources;
import dev.ferry.run.LiveStatus;
import dev.ferry.run.Reactivator;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/** The REST API on the API port; see the README for every route. */
public final class Api extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Api.class);

  /** What a 503 asks a client to wait: about the time a build takes. */
  static final int RETRY_AFTER_SECONDS = 5;
  private static final Set<String> ARCHIVE_TYPES = Set.of("application/gzip", "application/x-gzip",
      "application/x-tar+gzip", "application/x-compressed-tar", "application/octet-stream");

  private final Config config;
  private final DataDir dataDir;
  private final Recorder recorder;
  private final Ledger ledger;
  private final Transitions transitions;
  private final Reactivator reactivator;
  private final ApiToken token;
  private final LiveStatus live;
  private final BuildQueue queue;
  private final Resources resources;
  private final JsonObject info;
  private HttpServer server;
  private PublicView view;

  /** {@code info}: what {@code /api/v1/info} reports of the platform besides its limits (the sandbox). */
  public Api(Config config, DataDir dataDir, Recorder recorder, Transitions transitions, Reactivator reactivator, ApiToken token,
             LiveStatus live, BuildQueue queue, Resources resources, JsonObject info) {
    this.config = config;
    this.info = info;
    this.resources = resources;
    this.queue = queue;
    this.live = live;
    this.token = token;
    this.reactivator = reactivator;
    this.dataDir = dataDir;
    this.recorder = recorder;
    this.ledger = recorder.ledger();
    this.transitions = transitions;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health").handler(ctx -> ctx.json(new JsonObject().put("status", "up")));
    // every API call, the upload's before a byte of its body is read, needs the token
    router.route("/api/*").handler(token::check);
    // the local repository is Ferry's setting, else settings.xml's (Maven's default), else <dataDir>/maven
    String repository = config.maven().localRepository();
    view = new PublicView(dataDir.root(), dataDir.root().resolve(repository == null ? "maven" : repository),
        java.nio.file.Path.of(System.getProperty("user.home"), ".m2", "repository"));
    Observability observability = new Observability(vertx, config, ledger, token, view).withInfo(info);
    observability.mount(router);
    router.post("/api/v1/services/:name/deployments").handler(this::upload);
    router.get("/api/v1/services").handler(this::listServices);
    router.get("/api/v1/services/:name").handler(this::getService);
    router.delete("/api/v1/services/:name").handler(this::deleteService);
    router.get("/api/v1/services/:name/deployments").handler(this::listDeployments);
    router.get("/api/v1/deployments/:id").handler(this::getDeployment);
    router.post("/api/v1/services/:name/rollback").handler(this::rollback);
    router.post("/api/v1/services/:name/restart").handler(this::restart);
    router.post("/api/v1/token/rotate").handler(this::rotateToken);
    new ResourceRoutes(vertx, resources, reactivator, recorder, transitions, ctx -> validName(ctx, ctx.pathParam("name")), view).mount(router);
    router.route("/api/*").handler(ctx -> error(ctx, 404, "not_found", "No such API route: " + ctx.request().method() + " " + ctx.request().path()));
    router.errorHandler(500, ctx -> {
      log.error("API failure on {}", ctx.request().path(), ctx.failure());
      error(ctx, 500, "internal", view.scrub("Internal error: " + ctx.failure()));
    });
    dev.ferry.ConnectionGuard guard = dev.ferry.ConnectionGuard.of("API", config.server());
    return guard.guard(vertx.createHttpServer(guard.options(new io.vertx.core.http.HttpServerOptions())))
        .requestHandler(router).listen(config.api().port(), config.host())
        .recover(e -> Future.failedFuture(new IllegalStateException("cannot listen on " + config.host() + ":" + config.api().port()
            + " for the API: " + e.getMessage(), e)))
        .onSuccess(s -> server = s)
        .compose(s -> observability.start());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** Streams the tar.gz body to {@code uploads/<id>.tar.gz}, counting bytes, then queues the build. */
  private void upload(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause();
    String name = ctx.pathParam("name");
    if (!validName(ctx, name)) return;
    String type = req.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && !ARCHIVE_TYPES.contains(type.split(";")[0].trim().toLowerCase(Locale.ROOT))) {
      refuse(ctx, 415, "unsupported_media_type", "Upload a tar.gz with Content-Type: application/gzip (got " + type + ")");
      return;
    }
    long max = config.upload().maxBytes();
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        refuse(ctx, 400, "bad_request", "Content-Length is not a number");
        return;
      }
      if (declared > max) {
        refuse(ctx, 413, "too_large", "Upload of " + declared + " bytes is over the limit of " + max + " bytes");
        return;
      }
    }
    if (!queue.tryEnter()) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(RETRY_AFTER_SECONDS));
      refuse(ctx, 503, "overloaded", queue.size() + " deployments are waiting for a build (build.queueCapacity "
          + queue.capacity() + "); retry in a few seconds");
      return;
    }
    // from here every way out gives the place back, or queues the deployment, whose build gives it back
    String id = Deployment.newId();
    Path file = dataDir.upload(id);
    vertx.fileSystem().open(file.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
        .onFailure(e -> {
          queue.leave();
          log.error("Cannot store upload {}", file, e);
          refuse(ctx, 507, "insufficient_storage", view.scrub("Cannot store the upload: " + e.getMessage()));
        })
        .onSuccess(af -> receive(ctx, name, id, file, af, max));
  }

  private void receive(RoutingContext ctx, String name, String id, Path file, AsyncFile af, long max) {
    HttpServerRequest req = ctx.request();
    long[] received = {0};
    boolean[] failed = {false};
    // a body that stalls holds a build-queue place and a file: it is cut after upload.stallTimeoutMs without a byte
    long stallMs = config.upload().stallTimeoutMs();
    long[] lastByte = {System.nanoTime()};
    long[] stallTimer = {-1};
    Runnable discard = () -> {
      failed[0] = true;
      vertx.cancelTimer(stallTimer[0]);
      queue.leave();
      req.handler(null);
      af.close().onComplete(x -> vertx.fileSystem().delete(file.toString()));
    };
    stallTimer[0] = vertx.setPeriodic(Math.max(50, stallMs / 4), t -> {
      if (failed[0] || ctx.response().ended()) {
        vertx.cancelTimer(t);
      } else if (System.nanoTime() - lastByte[0] > stallMs * 1_000_000) {
        log.info("Upload {} of {} stalled: no byte for {} ms after {} bytes; cut", id, name, stallMs, received[0]);
        discard.run();
        refuse(ctx, 408, "request_timeout", "The upload sent nothing for " + stallMs + " ms (upload.stallTimeoutMs) and was cut after "
            + received[0] + " bytes");
        req.connection().close();
      }
    });
    req.handler(buf -> {
      if (failed[0]) return;
      lastByte[0] = System.nanoTime();
      received[0] += buf.length();
      if (received[0] > max) {
        discard.run();
        refuse(ctx, 413, "too_large", "Upload is over the limit of " + max + " bytes");
        return;
      }
      af.write(buf).onFailure(e -> {
        if (failed[0]) return;
        discard.run();
        log.error("Cannot write upload {}", file, e);
        refuse(ctx, 507, "insufficient_storage", view.scrub("Cannot store the upload: " + e.getMessage()));
      });
      if (af.writeQueueFull()) {
        req.pause();
        af.drainHandler(v -> {
          // paused by the disk, not by the client: its clock starts again
          lastByte[0] = System.nanoTime();
          req.resume();
        });
      }
    });
    req.exceptionHandler(e -> {
      if (!failed[0]) {
        log.info("Upload {} aborted: {}", id, e.toString());
        discard.run();
      }
    });
    req.endHandler(v -> {
      if (failed[0]) return;
      vertx.cancelTimer(stallTimer[0]);
      if (received[0] == 0) {
        discard.run();
        error(ctx, 400, "bad_request", "The body is empty: upload a tar.gz of the service's source tree");
        return;
      }
      af.close().onFailure(e -> {
        queue.leave();
        vertx.fileSystem().delete(file.toString());
        error(ctx, 507, "insufficient_storage", view.scrub("Cannot store the upload: " + e.getMessage()));
      }).onSuccess(x -> {
        Deployment d = transitions.publish(Deployment.queued(id, name, new Queued(file)));
        vertx.eventBus().send(Addresses.BUILD, d);
        log.info("Queued {} of {} ({} bytes)", id, name, received[0]);
        recorder.recorded(id)
            .onFailure(e -> error(ctx, 507, "insufficient_storage", view.scrub("Cannot record the deployment: " + e.getMessage())))
            .onSuccess(r -> ctx.response().setStatusCode(202)
                .putHeader(HttpHeaders.LOCATION, "/api/v1/deployments/" + id)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(view.of(transitions.json(d)).encode()));
      });
    });
    req.resume();
  }

  private void listServices(RoutingContext ctx) {
    read(ctx, () -> new JsonObject().put("services", new JsonArray(List.copyOf(ledger.services()))));
  }

  private void getService(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    read(ctx, () -> ledger.service(name).map(s -> live.addToService(s, name)).orElse(null), "No service named " + name);
  }

  private void listDeployments(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    read(ctx, () -> {
      List<JsonObject> ds = ledger.deployments(name);
      return ds.isEmpty() ? null : new JsonObject().put("service", name).put("deployments", new JsonArray(List.copyOf(ds)));
    }, "No service named " + name);
  }

  private void getDeployment(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    read(ctx, () -> ledger.deployment(id).map(d -> live.addTo(d, id)).orElse(null), "No deployment " + id);
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
      activated(ctx, reactivator.rollback(name, id));
    });
  }

  /** Starts a crashed service again (its newest deployment, which crashed), without rebuilding. */
  private void restart(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!validName(ctx, name)) return;
    activated(ctx, reactivator.restart(name));
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

  /** Answers 202 with a deployment activated again, once recorded; or the reason it could not be. */
  private void activated(RoutingContext ctx, Future<Deployment> activation) {
    activation
        .compose(d -> recorder.recorded(d).map(d))
        .onSuccess(d -> ctx.response().setStatusCode(202)
            .putHeader(HttpHeaders.LOCATION, "/api/v1/deployments/" + d.id())
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(view.of(transitions.json(d)).encode()))
        .onFailure(e -> {
          if (e instanceof Reactivator.Refused r) error(ctx, r.status(), r.code(), view.scrub(r.getMessage()));
          else ctx.fail(e);
        });
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

  private boolean validName(RoutingContext ctx, String name) {
    Optional<String> problem = Deployment.nameProblem(name);
    problem.ifPresent(p -> refuse(ctx, 400, "bad_request", p));
    return problem.isEmpty();
  }

  /** Answers an error before reading the body, and closes the connection so the body is not read. */
  private static void refuse(RoutingContext ctx, int status, String code, String message) {
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
