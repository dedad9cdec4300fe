package dev.ferry.cli;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.net.URI;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/** The CLI's connection to a Ferry API: blocking calls for commands, on a Vert.x of its own. */
final class FerryClient implements AutoCloseable {

  /** A failed call, with the API's error code and message. */
  static final class ApiException extends RuntimeException {
    final int status;

    ApiException(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  /** A small Vert.x: one event loop, no file cache; a command makes a few calls. */
  /** What a 401 tells the user to do. */
  static final String TOKEN_HINT = "Log in with  ferry login --server URL  (the token of a server started without one is in"
      + " <data dir>/token), or pass --token or FERRY_TOKEN";

  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
      .setInternalBlockingPoolSize(1).setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
          .setClassPathResolvingEnabled(false)));
  private final WebClient http = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(10_000));
  private final WebSocketClient ws = vertx.createWebSocketClient();
  private final String server;
  private final URI base;
  private final String token;

  FerryClient(String server, String token) {
    this.server = server;
    this.base = URI.create(server);
    this.token = token;
    if (base.getHost() == null) throw new IllegalArgumentException("Not a server URL: " + server);
  }

  JsonObject get(String path) {
    return json(request(HttpMethod.GET, path).send().await());
  }

  JsonObject post(String path, JsonObject body) {
    return json(request(HttpMethod.POST, path).sendJsonObject(body).await());
  }

  JsonObject put(String path, JsonObject body) {
    return json(request(HttpMethod.PUT, path).sendJsonObject(body).await());
  }

  JsonObject delete(String path) {
    return json(request(HttpMethod.DELETE, path).send().await());
  }

  /** GET {@code path} as text (NDJSON). */
  String text(String path) {
    HttpResponse<Buffer> r = request(HttpMethod.GET, path).send().await();
    if (r.statusCode() / 100 != 2) throw problem(r);
    return r.bodyAsString();
  }

  /** GET {@code path}, or null if the server answers 404. */
  JsonObject getOrNull(String path) {
    try {
      return get(path);
    } catch (ApiException e) {
      if (e.status == 404) return null;
      throw e;
    }
  }

  /** Streams {@code archive} as a new deployment of {@code service}; {@code progress} hears bytes sent so far. */
  JsonObject upload(String service, Path archive, long size, LongConsumer progress) {
    AsyncFile file = vertx.fileSystem().open(archive.toString(), new OpenOptions().setRead(true)).await();
    long[] sent = {0};
    io.vertx.core.streams.ReadStream<Buffer> counted = new CountingStream(file, n -> {
      sent[0] += n;
      progress.accept(sent[0]);
    });
    HttpResponse<Buffer> r = request(HttpMethod.POST, "/api/v1/services/" + service + "/deployments")
        .putHeader("content-type", "application/gzip")
        .putHeader("content-length", String.valueOf(size))
        .sendStream(counted).await();
    if (r.statusCode() != 202) throw problem(r);
    return r.bodyAsJsonObject();
  }

  /**
   * Opens a log WebSocket ({@code path}: {@code /api/v1/deployments/ID/logs} or
   * {@code /api/v1/services/NAME/logs}, with its query); {@code frame} hears each frame on the event
   * loop. The future completes when the socket closes (normally after the end frame, or dropped).
   */
  Future<Void> watch(String path, Consumer<JsonObject> frame) {
    Promise<Void> closed = Promise.promise();
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(base.getHost()).setPort(port()).setSsl(ssl())
        .setURI(prefix() + path);
    if (token != null) o.addHeader("Authorization", "Bearer " + token);
    ws.connect(o).onSuccess(socket -> {
      // attached on the event loop, before the first frame
      socket.textMessageHandler(t -> frame.accept(new JsonObject(t)));
      socket.closeHandler(v -> closed.tryComplete());
      socket.exceptionHandler(e -> closed.tryComplete());
    }).onFailure(e -> closed.tryFail(e instanceof io.vertx.core.http.UpgradeRejectedException u && u.getStatus() / 100 == 4
        ? new ApiException(u.getStatus(), "HTTP " + u.getStatus() + " for " + path.replaceFirst("\\?.*", "")
            + (u.getStatus() == 401 ? ": " + TOKEN_HINT : "")) : e));
    return closed.future();
  }

  /** Whether a Ferry platform answers {@code GET /health} within {@code timeoutMs}. */
  boolean answers(long timeoutMs) {
    try {
      HttpResponse<Buffer> r = http.request(HttpMethod.GET, port(), base.getHost(), prefix() + "/health").ssl(ssl())
          .timeout(timeoutMs).send().await();
      return r.statusCode() == 200 && "up".equals(r.bodyAsJsonObject().getString("status"));
    } catch (Exception e) {
      return false;
    }
  }

  Vertx vertx() {
    return vertx;
  }

  String server() {
    return server;
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path) {
    HttpRequest<Buffer> r = http.request(method, port(), base.getHost(), prefix() + path).ssl(ssl());
    if (token != null) r.putHeader("Authorization", "Bearer " + token);
    return r;
  }

  private boolean ssl() {
    return "https".equalsIgnoreCase(base.getScheme());
  }

  private int port() {
    return base.getPort() > 0 ? base.getPort() : ssl() ? 443 : 80;
  }

  private String prefix() {
    String p = base.getRawPath();
    return p == null || p.equals("/") ? "" : p.replaceAll("/+$", "");
  }

  private static JsonObject json(HttpResponse<Buffer> r) {
    if (r.statusCode() / 100 != 2) throw problem(r);
    return r.bodyAsJsonObject();
  }

  static ApiException problem(HttpResponse<Buffer> r) {
    String msg;
    try {
      msg = r.bodyAsJsonObject().getString("message");
    } catch (RuntimeException notJson) {
      msg = r.bodyAsString();
    }
    if (r.statusCode() == 401) msg += ". " + TOKEN_HINT;
    return new ApiException(r.statusCode(), "HTTP " + r.statusCode() + ": " + msg);
  }

  @Override
  public void close() {
    vertx.close().await();
  }

  /** A read stream that reports the size of each chunk it passes on. */
  private static final class CountingStream implements io.vertx.core.streams.ReadStream<Buffer> {
    private final io.vertx.core.streams.ReadStream<Buffer> in;
    private final LongConsumer counted;

    CountingStream(io.vertx.core.streams.ReadStream<Buffer> in, LongConsumer counted) {
      this.in = in;
      this.counted = counted;
    }

    @Override
    public CountingStream exceptionHandler(io.vertx.core.Handler<Throwable> h) {
      in.exceptionHandler(h);
      return this;
    }

    @Override
    public CountingStream handler(io.vertx.core.Handler<Buffer> h) {
      in.handler(h == null ? null : b -> {
        counted.accept(b.length());
        h.handle(b);
      });
      return this;
    }

    @Override
    public CountingStream pause() {
      in.pause();
      return this;
    }

    @Override
    public CountingStream resume() {
      in.resume();
      return this;
    }

    @Override
    public CountingStream fetch(long amount) {
      in.fetch(amount);
      return this;
    }

    @Override
    public CountingStream endHandler(io.vertx.core.Handler<Void> h) {
      in.endHandler(h);
      return this;
    }
  }
}
