package dev.ferry.proxy;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.RequestOptions;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The proxy port: {@code Host: <service>.<domain>} goes to the service's current deployment, via
 * vertx-http-proxy (which also passes WebSocket upgrades through). Answers itself when it cannot
 * route: no Host 400, unknown service 404; a service on its way (being restored after a restart,
 * or restarted after a crash) holds the request until it serves, or 503 with {@code Retry-After};
 * a crashed one is 503; a backend that fails is 502 (vertx-http-proxy), one that sends nothing for
 * {@code proxy.timeoutMs} is 504 and a warning naming the service. A request with two Host headers
 * is 400. Its connections are watched by a {@link dev.ferry.ConnectionGuard}.
 */
public final class Proxy extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Proxy.class);

  private final Routes routes;
  private final String domainSuffix;
  private final String host;
  private final int port;
  private final long timeoutMs;
  private final long waitMs;
  private final dev.ferry.ConnectionGuard guard;
  private HttpServer server;
  private ProxyMeters meters;

  /**
   * {@code waitMs}: how long a request for a service on its way (restored, restarted) waits for it
   * before 503; {@code guard}: the proxy port's, shared by every proxy instance.
   */
  public Proxy(Routes routes, String domain, String host, int port, long timeoutMs, long waitMs, dev.ferry.ConnectionGuard guard) {
    this.routes = routes;
    this.guard = guard;
    this.waitMs = waitMs;
    this.domainSuffix = "." + domain.toLowerCase(Locale.ROOT);
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public Future<?> start() {
    meters = new ProxyMeters(dev.ferry.Meters.registry(vertx), routes);
    HttpClient client = vertx.createHttpClient(new HttpClientOptions()
        .setIdleTimeout((int) Math.max(1, timeoutMs / 1000)).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
    HttpProxy proxy = HttpProxy.reverseProxy(client)
        .origin(ctx -> origin(ctx).compose(address -> ctx.client().request(ctx.isWebSocket()
            ? new RequestOptions().setServer(address)
            // a service that sends nothing for timeoutMs (a blocked handler, a lost request) fails the request
            : new RequestOptions().setServer(address).setIdleTimeout(timeoutMs))))
        .addInterceptor(new GatewayTimeout(), false)
        .addInterceptor(new ForwardedHeaders(guard), true);
    return guard.guard(vertx.createHttpServer(guard.options(new io.vertx.core.http.HttpServerOptions())))
        .requestHandler(req -> route(req, proxy))
        // port 0 → -1: every proxy instance shares one random port (Vert.x's convention)
        .listen(port == 0 ? -1 : port, host)
        .recover(e -> Future.failedFuture(new IllegalStateException("cannot listen on " + host + ":" + port + " for the proxy: "
            + e.getMessage(), e)))
        .onSuccess(s -> server = s);
  }

  /** The port the proxy listens on (the actual one when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void route(HttpServerRequest req, HttpProxy proxy) {
    // two Host headers: the proxy and the service could each believe a different one
    if (req.headers().getAll("Host").size() > 1) {
      error(req.response(), 400, "bad_request", "The request has more than one Host header");
      return;
    }
    String service = serviceOf(req.authority());
    if (service == null) {
      error(req.response(), 400, "bad_request", req.authority() == null
          ? "No Host header: address a service as <service>" + domainSuffix
          : "Host " + req.authority().host() + " is not <service>" + domainSuffix);
      return;
    }
    if (routes.get(service) != null) {
      forward(req, service, proxy);
      return;
    }
    // on its way (restored after a restart, restarted after a crash) or down: never "no such service"
    req.pause();
    routes.await(service, waitMs).onComplete(ar -> {
      if (ar.succeeded() && ar.result() != null) {
        forward(req, service, proxy);
      } else if (ar.failed()) {
        req.response().putHeader("Retry-After", "5");
        error(req.response(), 503, "unavailable", ar.cause().getMessage());
      } else {
        error(req.response(), 404, "not_found", "No service named " + service + " is deployed");
      }
    });
  }

  private void forward(HttpServerRequest req, String service, HttpProxy proxy) {
    long t0 = System.nanoTime();
    req.response().bodyEndHandler(v -> meters.record(service, req.response().getStatusCode(), System.nanoTime() - t0));
    proxy.handle(req);
  }

  /** The service a Host names, or null if it names none. */
  String serviceOf(HostAndPort authority) {
    if (authority == null) return null;
    String h = authority.host().toLowerCase(Locale.ROOT);
    if (!h.endsWith(domainSuffix)) return null;
    String name = h.substring(0, h.length() - domainSuffix.length());
    return dev.ferry.deployment.Deployment.SERVICE_NAME.matcher(name).matches() ? name : null;
  }

  /** Picks the backend the request goes to, and counts it in flight until the response is done. */
  private Future<SocketAddress> origin(ProxyContext ctx) {
    HttpServerRequest req = ctx.request().proxiedRequest();
    Routes.Backend backend = routes.get(serviceOf(req.authority()));
    if (backend == null) {
      return Future.failedFuture("service went away");
    }
    backend.begin();
    AtomicBoolean done = new AtomicBoolean();
    Runnable end = () -> {
      if (done.compareAndSet(false, true)) backend.end();
    };
    req.response().endHandler(v -> end.run());
    req.response().closeHandler(v -> end.run());
    return Future.succeededFuture(SocketAddress.inetSocketAddress(backend.port(), "127.0.0.1"));
  }

  static void error(HttpServerResponse resp, int status, String code, String message) {
    resp.setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", code).put("message", message).encode());
  }

  /** Turns a request the service did not answer within the timeout into a 504 that names the service. */
  private final class GatewayTimeout implements ProxyInterceptor {
    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
      return ctx.sendRequest().recover(e -> {
        if (!(e instanceof TimeoutException)) return Future.failedFuture(e);
        HttpServerRequest in = ctx.request().proxiedRequest();
        String service = serviceOf(in.authority());
        log.warn("Service {} did not answer {} {} within {} ms (proxy.timeoutMs); answered 504. Is a handler blocking its thread?",
            service, in.method(), in.path(), timeoutMs);
        Buffer body = new JsonObject().put("error", "gateway_timeout")
            .put("message", "Service " + service + " did not answer within " + timeoutMs + " ms").toBuffer();
        return Future.succeededFuture(ctx.request().release().response().setStatusCode(504)
            .putHeader("content-type", "application/json").setBody(Body.body(body)));
      });
    }
  }

  /**
   * Sets X-Forwarded-For, -Host and -Proto on the request to the service. What a client sent in
   * them is replaced: only a trusted proxy's ({@code server.trustedProxies}) are kept, its
   * X-Forwarded-For appended to.
   */
  private static final class ForwardedHeaders implements ProxyInterceptor {
    private final dev.ferry.ConnectionGuard guard;

    ForwardedHeaders(dev.ferry.ConnectionGuard guard) {
      this.guard = guard;
    }

    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
      HttpServerRequest in = ctx.request().proxiedRequest();
      var headers = ctx.request().headers();
      boolean trusted = guard.trusted(in.remoteAddress());
      String client = in.remoteAddress() == null ? null : in.remoteAddress().hostAddress();
      String prior = trusted ? String.join(", ", headers.getAll("X-Forwarded-For")) : "";
      headers.remove("X-Forwarded-For");
      if (client != null) headers.set("X-Forwarded-For", prior.isBlank() ? client : prior + ", " + client);
      if (!trusted || headers.get("X-Forwarded-Host") == null) {
        if (in.authority() != null) headers.set("X-Forwarded-Host", in.authority().toString());
        else headers.remove("X-Forwarded-Host");
      }
      if (!trusted || headers.get("X-Forwarded-Proto") == null) headers.set("X-Forwarded-Proto", in.isSSL() ? "https" : "http");
      return ctx.sendRequest();
    }
  }
}
