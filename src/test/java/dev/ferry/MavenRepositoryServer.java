package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PfxOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Maven repositories over real HTTP(S) on a loopback port: each prefix ({@code /origin/}, ...) serves
 * a {@link FileRepository}'s tree; {@code /private/} and {@code /mirror/} only with Basic credentials
 * ({@link #USER}, {@link #PASSWORD}); {@code /flaky/} answers 502 while {@link #down} is set (a gateway
 * in front of a repository that is down); {@code /forbidden/} always answers 403. It counts the requests each prefix got.
 */
final class MavenRepositoryServer implements AutoCloseable {

  static final String USER = "deployer";
  static final String PASSWORD = "s3cret-pass";

  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final boolean tls;
  /** While set, {@code /flaky/} answers 502. */
  final AtomicBoolean down = new AtomicBoolean();
  private HttpServer server;

  private MavenRepositoryServer(boolean tls) {
    this.tls = tls;
  }

  /**
   * Serves each tree under its prefix over HTTP, or over HTTPS with the key in {@code keyStore}
   * (PKCS#12) when it is not null.
   */
  static MavenRepositoryServer start(Vertx vertx, Map<String, Path> trees, Path keyStore, String keyStorePassword) {
    MavenRepositoryServer s = new MavenRepositoryServer(keyStore != null);
    Router router = Router.router(vertx);
    router.route().handler(s::count);
    trees.forEach((prefix, root) -> {
      var route = router.route("/" + prefix + "/*");
      if (prefix.equals("private") || prefix.equals("mirror")) route.handler(MavenRepositoryServer::basicAuth);
      if (prefix.equals("flaky")) route.handler(ctx -> {
        if (s.down.get()) ctx.response().setStatusCode(502).end("Bad Gateway");
        else ctx.next();
      });
      route.handler(StaticHandler.create(FileSystemAccess.ROOT, root.toAbsolutePath().toString()).setCachingEnabled(false));
    });
    router.route("/forbidden/*").handler(ctx -> ctx.response().setStatusCode(403).end("Forbidden"));
    HttpServerOptions options = new HttpServerOptions().setHost("127.0.0.1").setPort(0);
    if (keyStore != null) {
      options.setSsl(true).setKeyCertOptions(new PfxOptions().setPath(keyStore.toString()).setPassword(keyStorePassword));
    }
    s.server = vertx.createHttpServer(options).requestHandler(router).listen().await();
    return s;
  }

  private void count(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    requests.add(ctx.request().method() + " " + path);
    int slash = path.indexOf('/', 1);
    hits.computeIfAbsent(slash > 0 ? path.substring(1, slash) : path.substring(1), k -> new AtomicInteger()).incrementAndGet();
    ctx.next();
  }

  private static void basicAuth(RoutingContext ctx) {
    String expected = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    if (expected.equals(ctx.request().getHeader("Authorization"))) {
      ctx.next();
    } else {
      ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Basic realm=\"test repository\"").end();
    }
  }

  int port() {
    return server.actualPort();
  }

  /** {@code http(s)://127.0.0.1:PORT/<prefix>/}. */
  String url(String prefix) {
    return (tls ? "https" : "http") + "://127.0.0.1:" + port() + "/" + prefix + "/";
  }

  /** How many requests went to {@code /<prefix>/…}. */
  int hits(String prefix) {
    AtomicInteger n = hits.get(prefix);
    return n == null ? 0 : n.get();
  }

  /** Every request so far as {@code METHOD /path}, in order. */
  List<String> requests() {
    return List.copyOf(requests);
  }

  void reset() {
    hits.clear();
    requests.clear();
  }

  @Override
  public void close() {
    server.close().await();
  }
}
