package dev.ferry.run;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

/**
 * When a started service is ready for traffic: once its runner reports the routed port bound, a
 * TCP connect to it succeeds (the default: nothing reaches the service's handlers), or, when the
 * service names {@code ferry.readiness.path}, a GET of that path answers 2xx or 3xx. Retries until
 * the deadline.
 */
final class Readiness {

  private static final long RETRY_MS = 10;

  private final Vertx vertx;
  private final long startTimeoutMs;
  private final NetClient tcp;
  private final HttpClient http;

  Readiness(Vertx vertx, long startTimeoutMs) {
    this.vertx = vertx;
    this.startTimeoutMs = startTimeoutMs;
    this.tcp = vertx.createNetClient(new NetClientOptions().setConnectTimeout(1_000));
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setConnectTimeout(1_000));
  }

  /** Succeeds once the service is ready: {@code bound} completed, then the probe passed; fails at {@code deadline}. */
  Future<Void> await(Future<Void> bound, int port, String path, long deadline) {
    Promise<Void> opened = Promise.promise();
    bound.onComplete(opened);
    long timer = vertx.setTimer(Math.max(1, deadline - System.currentTimeMillis()), t -> opened.tryFail(new Runner.Refused(
        "The service started but opened no server within " + startTimeoutMs + " ms: it must listen on a port"
            + " (Ferry routes the first server it opens, whatever port it asks for)")));
    return opened.future().andThen(x -> vertx.cancelTimer(timer)).compose(x -> {
      Promise<Void> p = Promise.promise();
      probe(port, path, deadline, p);
      return p.future();
    });
  }

  private void probe(int port, String path, long deadline, Promise<Void> p) {
    Future<Void> attempt = path == null
        ? tcp.connect(port, ServiceRuntime.SERVICE_HOST).compose(so -> so.close())
        : http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(ServiceRuntime.SERVICE_HOST).setPort(port).setURI(path)
                .setIdleTimeout(Math.max(1, deadline - System.currentTimeMillis())))
            .compose(req -> req.send().compose(resp -> resp.end().map(resp.statusCode())))
            .compose(status -> status >= 200 && status < 400 ? Future.succeededFuture() : Future.failedFuture("GET " + path + " answered " + status));
    attempt.onSuccess(v -> p.tryComplete()).onFailure(e -> {
      if (System.currentTimeMillis() + RETRY_MS >= deadline) {
        p.tryFail(new Runner.Refused(path == null
            ? "The service's port " + port + " did not accept connections within " + startTimeoutMs + " ms: " + e.getMessage()
            : "The service did not become ready within " + startTimeoutMs + " ms: " + e.getMessage()));
      } else {
        vertx.setTimer(RETRY_MS, t -> probe(port, path, deadline, p));
      }
    });
  }

  Future<Void> close() {
    return Future.join(tcp.close(), http.close()).mapEmpty();
  }
}
