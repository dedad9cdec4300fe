package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A real WebSocket client on a deployment's log: collects every frame until the server closes. */
final class LogWatcher {

  final List<JsonObject> frames = new CopyOnWriteArrayList<>();
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final WebSocketClient client;
  volatile WebSocket socket;

  private LogWatcher(Vertx vertx) {
    this.client = vertx.createWebSocketClient();
  }

  static LogWatcher open(TestPlatform ferry, String deploymentId, String query) {
    return openUri(ferry, "/api/v1/deployments/" + deploymentId + "/logs" + (query == null ? "" : "?" + query));
  }

  /** A watcher of service {@code name}'s log across its deployments. */
  static LogWatcher openService(TestPlatform ferry, String name, String query) {
    return openUri(ferry, "/api/v1/services/" + name + "/logs" + (query == null ? "" : "?" + query));
  }

  private static LogWatcher openUri(TestPlatform ferry, String uri) {
    LogWatcher w = new LogWatcher(ferry.vertx);
    CompletableFuture<WebSocket> open = new CompletableFuture<>();
    w.client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(ferry.apiPort()).setURI(uri)
            .addHeader("Authorization", "Bearer " + TestPlatform.TOKEN))
        .onSuccess(ws -> {
          // handlers attached on the event loop, before any frame is read
          ws.textMessageHandler(t -> w.add(new JsonObject(t)));
          ws.closeHandler(v -> w.closed.complete(null));
          w.socket = ws;
          open.complete(ws);
        })
        .onFailure(open::completeExceptionally);
    open.orTimeout(10, TimeUnit.SECONDS).join();
    return w;
  }

  private synchronized void add(JsonObject frame) {
    frames.add(frame);
    notifyAll();
  }

  /** The log lines (frames without {@code event}). */
  List<JsonObject> lines() {
    return frames.stream().filter(f -> !f.containsKey("event")).toList();
  }

  JsonObject endFrame() {
    return frames.stream().filter(f -> "end".equals(f.getString("event"))).findFirst().orElse(null);
  }

  LogWatcher awaitClosed() {
    closed.orTimeout(30, TimeUnit.SECONDS).join();
    return this;
  }

  /** Waits until a frame matches {@code p}. */
  JsonObject await(Predicate<JsonObject> p) {
    return await(0, p);
  }

  /** Waits until a frame from index {@code from} on matches {@code p}, woken by each frame. */
  synchronized JsonObject await(int from, Predicate<JsonObject> p) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try {
      for (int i = from; ; ) {
        for (; i < frames.size(); i++) if (p.test(frames.get(i))) return frames.get(i);
        long left = deadline - System.nanoTime();
        if (left <= 0) break;
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    throw new AssertionError("no frame matched; got " + frames.size() + " frames, last: "
        + (frames.isEmpty() ? "-" : frames.get(frames.size() - 1)));
  }

  void close() {
    if (socket != null) socket.close();
    client.close();
  }
}
