package dev.ferry.api;

import dev.ferry.Config;
import dev.ferry.DataDir;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState.Queued;
import dev.ferry.deployment.Transitions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * {@code POST /api/v1/services/{name}/deployments}: takes a place in the build queue, streams the
 * tar.gz body to {@code uploads/<id>.tar.gz} within {@code upload.maxBytes}, then queues the build.
 */
final class Uploads {

  private static final Logger log = LoggerFactory.getLogger(Uploads.class);

  private static final Set<String> ARCHIVE_TYPES = Set.of("application/gzip", "application/x-gzip",
      "application/x-tar+gzip", "application/x-compressed-tar", "application/octet-stream");

  private final Vertx vertx;
  private final Config config;
  private final DataDir dataDir;
  private final Transitions transitions;
  private final PublicView view;

  Uploads(Vertx vertx, Config config, DataDir dataDir, Transitions transitions, PublicView view) {
    this.vertx = vertx;
    this.config = config;
    this.dataDir = dataDir;
    this.transitions = transitions;
    this.view = view;
  }

  /** Streams the tar.gz body to {@code uploads/<id>.tar.gz}, counting bytes, then queues the build. */
  void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause();
    String name = ctx.pathParam("name");
    if (!Api.validName(ctx, name)) return;
    String type = req.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && !ARCHIVE_TYPES.contains(type.split(";")[0].trim().toLowerCase(Locale.ROOT))) {
      Api.refuse(ctx, 415, "unsupported_media_type", "Upload a tar.gz with Content-Type: application/gzip (got " + type + ")");
      return;
    }
    long max = config.upload().maxBytes();
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        Api.refuse(ctx, 400, "bad_request", "Content-Length is not a number");
        return;
      }
      if (declared > max) {
        Api.refuse(ctx, 413, "too_large", "Upload of " + declared + " bytes is over the limit of " + max + " bytes");
        return;
      }
    }
    vertx.eventBus().request(Addresses.ADMIT, null).onComplete(ar -> {
      if (ar.succeeded()) {
        store(ctx, name, max);
      } else if (ar.cause() instanceof ReplyException r && r.failureCode() == Addresses.FULL) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(Api.RETRY_AFTER_SECONDS));
        Api.refuse(ctx, 503, "overloaded", r.getMessage() + "; retry in a few seconds");
      } else {
        ctx.fail(ar.cause());
      }
    });
  }

  /** Opens the upload's file; from here every way out gives the queue's place back, or queues the deployment, whose build gives it back. */
  private void store(RoutingContext ctx, String name, long max) {
    String id = Deployment.newId();
    Path file = dataDir.upload(id);
    vertx.fileSystem().open(file.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
        .onFailure(e -> {
          leave();
          log.error("Cannot store upload {}", file, e);
          Api.refuse(ctx, 507, "insufficient_storage", view.scrub("Cannot store the upload: " + e.getMessage()));
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
    // writes complete in order: once the last one has, every one has (a full disk may fail one after the body ended)
    @SuppressWarnings("unchecked")
    Future<Void>[] lastWrite = new Future[] {Future.succeededFuture()};
    Runnable discard = () -> {
      failed[0] = true;
      vertx.cancelTimer(stallTimer[0]);
      leave();
      req.handler(null);
      af.close().onComplete(x -> vertx.fileSystem().delete(file.toString()));
    };
    stallTimer[0] = vertx.setPeriodic(Math.max(50, stallMs / 4), t -> {
      if (failed[0] || ctx.response().ended()) {
        vertx.cancelTimer(t);
      } else if (System.nanoTime() - lastByte[0] > stallMs * 1_000_000) {
        log.info("Upload {} of {} stalled: no byte for {} ms after {} bytes; cut", id, name, stallMs, received[0]);
        discard.run();
        Api.refuse(ctx, 408, "request_timeout", "The upload sent nothing for " + stallMs + " ms (upload.stallTimeoutMs) and was cut after "
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
        Api.refuse(ctx, 413, "too_large", "Upload is over the limit of " + max + " bytes");
        return;
      }
      lastWrite[0] = af.write(buf).onFailure(e -> {
        if (failed[0]) return;
        discard.run();
        log.error("Cannot write upload {}", file, e);
        Api.refuse(ctx, 507, "insufficient_storage", view.scrub("Cannot store the upload: " + e.getMessage()));
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
      vertx.cancelTimer(stallTimer[0]);
      lastWrite[0].onComplete(written -> stored(ctx, name, id, file, af, received[0], failed[0], discard));
    });
    req.resume();
  }

  /** The body has ended and every write has completed: the deployment is queued, unless a write failed (it has answered 507). */
  private void stored(RoutingContext ctx, String name, String id, Path file, AsyncFile af, long received, boolean failed, Runnable discard) {
    if (failed) return;
    if (received == 0) {
      discard.run();
      Api.error(ctx, 400, "bad_request", "The body is empty: upload a tar.gz of the service's source tree");
      return;
    }
    af.close().onFailure(e -> {
      leave();
      vertx.fileSystem().delete(file.toString());
      Api.error(ctx, 507, "insufficient_storage", view.scrub("Cannot store the upload: " + e.getMessage()));
    }).onSuccess(x -> {
      Deployment d = transitions.begin(Deployment.queued(id, name, new Queued(file)));
      vertx.eventBus().send(Addresses.BUILD, d);
      log.info("Queued {} of {} ({} bytes)", id, name, received);
      Api.recorded(vertx, d)
          .onFailure(e -> Api.error(ctx, 507, "insufficient_storage", view.scrub("Cannot record the deployment: " + e.getMessage())))
          .onSuccess(r -> ctx.response().setStatusCode(202)
              .putHeader(HttpHeaders.LOCATION, "/api/v1/deployments/" + id)
              .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
              .end(view.of(transitions.json(d)).encode()));
    });
  }

  /** Gives the build queue's place back: the upload will not be queued. */
  private void leave() {
    vertx.eventBus().send(Addresses.LEAVE, null);
  }
}
