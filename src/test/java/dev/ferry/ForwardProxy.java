package dev.ferry;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small HTTP forward proxy on a loopback port, as a corporate one would be: it asks for Basic
 * credentials ({@code 407}), then forwards absolute-URI requests and records them.
 */
final class ForwardProxy implements AutoCloseable {

  static final String USER = "proxy-user";
  static final String PASSWORD = "proxy-pass";

  private final List<String> forwarded = new CopyOnWriteArrayList<>();
  private final HttpClient client;
  private HttpServer server;

  private ForwardProxy(Vertx vertx) {
    this.client = vertx.createHttpClient();
  }

  static ForwardProxy start(Vertx vertx) {
    ForwardProxy p = new ForwardProxy(vertx);
    p.server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)).requestHandler(p::forward)
        .listen().await();
    return p;
  }

  int port() {
    return server.actualPort();
  }

  /** The absolute URIs forwarded so far (requests that brought the right credentials). */
  List<String> forwarded() {
    return List.copyOf(forwarded);
  }

  private void forward(HttpServerRequest req) {
    String expected = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    if (!expected.equals(req.getHeader("Proxy-Authorization"))) {
      req.response().setStatusCode(407).putHeader("Proxy-Authenticate", "Basic realm=\"test proxy\"").end();
      return;
    }
    forwarded.add(req.uri());
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(req.headers());
    headers.remove("Proxy-Authorization").remove("Proxy-Connection").remove("Host");
    client.request(new RequestOptions().setMethod(req.method()).setAbsoluteURI(req.uri()).setHeaders(headers))
        .compose(r -> r.send())
        .onSuccess(res -> {
          req.response().setStatusCode(res.statusCode()).headers().addAll(res.headers()).remove("Connection");
          res.pipeTo(req.response());
        })
        .onFailure(e -> req.response().setStatusCode(502).end(String.valueOf(e.getMessage())));
  }

  @Override
  public void close() {
    server.close().await();
    client.close().await();
  }
}
