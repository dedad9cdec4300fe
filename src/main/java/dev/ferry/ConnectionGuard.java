package dev.ferry;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every public HTTP server of the platform (the API, the proxy) does to connections, so that
 * idle or slow ones cannot pile up until it has no file descriptors left: a connection that has
 * not sent a complete request head within {@code server.headerTimeoutMs} (after it opened, or
 * after the first byte of its next request) is closed; one with nothing in flight for
 * {@code server.idleTimeoutMs} is closed (WebSockets, once upgraded, are exempt); one client
 * address holds at most {@code server.maxConnectionsPerClient} connections, past which new ones
 * are closed at once (trusted proxies are not capped). One guard per port: apply it with
 * {@link #options} to the server's options and {@link #guard} to the server.
 */
public final class ConnectionGuard {

  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final String WATCH = "ferry-guard";
  private static final String HEAD = "ferry-guard-head";

  private final String name;
  private final long headerTimeoutMs;
  private final long idleTimeoutMs;
  private final int maxPerClient;
  private final Set<String> trusted;
  private final Map<String, AtomicInteger> perClient = new ConcurrentHashMap<>();
  private final AtomicLong headerTimeouts = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong warned = new AtomicLong();

  public ConnectionGuard(String name, long headerTimeoutMs, long idleTimeoutMs, int maxPerClient, Set<String> trusted) {
    this.name = name;
    this.headerTimeoutMs = headerTimeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.maxPerClient = maxPerClient;
    this.trusted = Set.copyOf(trusted);
  }

  /** The guard the {@code server} section describes, for the server called {@code name} (for its log lines). */
  public static ConnectionGuard of(String name, dev.ferry.settings.ServerConfig server) {
    return new ConnectionGuard(name, server.headerTimeoutMs(), server.idleTimeoutMs(), server.maxConnectionsPerClient(),
        Set.copyOf(server.trustedProxies()));
  }

  /** {@code options} with the idle timeout; HTTP/1 only (no cleartext HTTP/2, whose connections this guard does not read). */
  public HttpServerOptions options(HttpServerOptions options) {
    return options.setIdleTimeout((int) idleTimeoutMs).setIdleTimeoutUnit(TimeUnit.MILLISECONDS).setHttp2ClearTextEnabled(false);
  }

  /** Watches every connection {@code server} accepts (it takes the server's connection handler). */
  public HttpServer guard(HttpServer server) {
    return server.connectionHandler(this::accepted);
  }

  /** Whether {@code address} is one of {@code server.trustedProxies}. */
  public boolean trusted(SocketAddress address) {
    return address != null && trusted(address.hostAddress());
  }

  /**
   * Counts a new connection from {@code client} (an IP address): what to run when it closes, or
   * null when its address holds {@code server.maxConnectionsPerClient} already (close it at once).
   * For servers that are not Vert.x's (the proxy's pipe), which also time heads and idleness with
   * {@link #headerTimeoutMs()}, {@link #idleTimeoutMs()} and {@link #headerTimedOut}.
   */
  public Runnable admit(String client) {
    if (maxPerClient <= 0 || (client != null && trusted.contains(client))) return () -> { };
    String key = client == null ? "?" : client;
    AtomicInteger n = perClient.computeIfAbsent(key, k -> new AtomicInteger());
    if (n.incrementAndGet() > maxPerClient) {
      n.decrementAndGet();
      refused.incrementAndGet();
      if (warned.getAndIncrement() % 1000 == 0) {
        log.warn("{}: {} already holds {} connections (server.maxConnectionsPerClient); closing its new ones", name, key, maxPerClient);
      }
      return null;
    }
    java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true) && n.decrementAndGet() <= 0) perClient.remove(key, n);
    };
  }

  /**
   * Why server {@code what} cannot listen on {@code host:port}, said the same whichever transport
   * failed (the native one says {@code bind(..) failed with error(-98): Address already in use}).
   */
  public static IllegalStateException cannotListen(String what, String host, int port, Throwable e) {
    String why = String.valueOf(e.getMessage());
    if (e instanceof java.net.BindException || why.contains("Address already in use")) why = "Address already in use";
    return new IllegalStateException("cannot listen on " + host + ":" + port + " for " + what + ": " + why, e);
  }

  /** Whether {@code hostAddress} (an IP address) is one of {@code server.trustedProxies}. */
  public boolean trusted(String hostAddress) {
    return hostAddress != null && trusted.contains(hostAddress);
  }

  public long headerTimeoutMs() {
    return headerTimeoutMs;
  }

  public long idleTimeoutMs() {
    return idleTimeoutMs;
  }

  /** A connection from {@code remote} is closed: no complete request head within the header timeout. */
  public void headerTimedOut(Object remote) {
    headerTimeouts.incrementAndGet();
    log.debug("{}: closing {}: no complete request head within {} ms", name, remote, headerTimeoutMs);
  }

  /** Connections closed because they sent no complete request head in time. */
  public long headerTimeouts() {
    return headerTimeouts.get();
  }

  /** Connections closed at once because their client address held its maximum already. */
  public long refused() {
    return refused.get();
  }

  private void accepted(HttpConnection conn) {
    Runnable release = admit(conn.remoteAddress() == null ? null : conn.remoteAddress().hostAddress());
    if (release == null) {
      conn.close();
      return;
    }
    conn.closeHandler(v -> release.run());
    Channel ch = dev.ferry.common.VertxInternals.channel(conn);
    if (ch == null) return;
    Watch watch = new Watch();
    ch.pipeline().addFirst(WATCH, watch);
    if (ch.pipeline().get("handler") != null) ch.pipeline().addBefore("handler", HEAD, new Head(watch));
  }

  /** Raw bytes in, at the head of the pipeline: times the request head from its connection's start or its first byte. */
  private final class Watch extends ChannelDuplexHandler {
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private boolean awaitingHead = true;
    private boolean upgraded;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      arm();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      // the first bytes of the next request after a keep-alive pause start its head's clock
      if (msg instanceof ByteBuf b && b.isReadable() && awaitingHead && timer == null && !upgraded) arm();
      ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      cancel();
      super.channelInactive(ctx);
    }

    void arm() {
      timer = ctx.executor().schedule(() -> {
        if (!awaitingHead || upgraded || !ctx.channel().isActive()) return;
        headerTimedOut(ctx.channel().remoteAddress());
        ctx.close();
      }, headerTimeoutMs, TimeUnit.MILLISECONDS);
    }

    void cancel() {
      if (timer != null) timer.cancel(false);
      timer = null;
    }

    void headReceived() {
      awaitingHead = false;
      cancel();
    }

    void responseEnded() {
      if (!upgraded) awaitingHead = true;
    }

    void upgradedTo() {
      upgraded = true;
      cancel();
      // a WebSocket may stay quiet: it is no idle HTTP connection
      if (ctx.pipeline().get("idle") != null) ctx.pipeline().remove("idle");
    }
  }

  /** Decoded messages, next to Vert.x's handler: a request head in, a response's end or a 101 out. */
  private static final class Head extends ChannelDuplexHandler {
    private final Watch watch;

    Head(Watch watch) {
      this.watch = watch;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest) watch.headReceived();
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse r && r.status().code() == 101) watch.upgradedTo();
      if (msg instanceof LastHttpContent) watch.responseEnded();
      ctx.write(msg, promise);
    }
  }
}
