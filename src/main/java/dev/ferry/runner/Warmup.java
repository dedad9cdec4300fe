package dev.ferry.runner;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;

import java.util.concurrent.TimeUnit;

/**
 * What an idle runner does before it is given a service: the code paths every service takes
 * (Vert.x start-up, deploying a verticle, accepting a connection, an HTTP exchange, JSON) run
 * once and then a few hundred times, on a throw-away {@code Vertx}, so their classes are loaded
 * and the JIT has seen them when the service's first request arrives. The same run, with
 * {@code -XX:ArchiveClassesAtExit}, trains the runner's class-data-sharing archive.
 */
final class Warmup {

  /** Requests sent through the warm-up server: enough for the JIT's first tier to compile the HTTP path. */
  static final int REQUESTS = 300;

  private Warmup() {
  }

  /** A verticle like a service's: an HTTP server answering JSON. */
  public static final class Probe extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.createHttpServer()
          .requestHandler(req -> req.response().putHeader("content-type", "application/json")
              .end(new JsonObject().put("warm", true).put("path", req.path()).encode()))
          .listen(0, "127.0.0.1");
    }
  }

  /** Runs the warm-up; blocks for its length (a few hundred ms on a cold JVM, at most {@code timeoutMs}). */
  static void run(long timeoutMs) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    try {
      vertx.deployVerticle(new Probe())
          .compose(id -> vertx.createHttpServer().requestHandler(req -> req.response().putHeader("content-type", "application/json")
              .end(new JsonObject().put("path", req.path()).encode())).listen(0, "127.0.0.1"))
          .compose(server -> {
            NetClient tcp = vertx.createNetClient();
            HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
            return tcp.connect(server.actualPort(), "127.0.0.1").compose(so -> so.close())
                .compose(x -> requests(http, server.actualPort(), 0));
          })
          .timeout(timeoutMs, TimeUnit.MILLISECONDS)
          .toCompletionStage().toCompletableFuture().get();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    }
  }

  /** Request {@code i} and those after it, one after the other, on the event loop. */
  private static Future<Void> requests(HttpClient http, int port, int i) {
    if (i == REQUESTS) return Future.succeededFuture();
    return http.request(HttpMethod.GET, port, "127.0.0.1", "/warm/" + i)
        .compose(req -> req.putHeader("X-Forwarded-For", "127.0.0.1").send())
        .compose(resp -> resp.body())
        .compose(body -> requests(http, port, i + 1));
  }
}
