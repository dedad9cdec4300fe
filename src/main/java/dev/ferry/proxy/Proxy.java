package dev.ferry.proxy;

import dev.ferry.common.VertxInternals;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The proxy port: {@code Host: <service>.<domain>} goes to the service's current deployment. A lean
 * HTTP/1.x pipe on Netty, on {@code proxy.instances} of the platform's event loops (the native epoll
 * transport where there is one): each request's head is read for its Host and body framing, sent on
 * with {@code X-Forwarded-For}, {@code -Host} and {@code -Proto} over a connection to the backend
 * kept open between requests, and the response is passed back byte for byte; a protocol switch
 * (WebSocket) becomes a tunnel. Answers itself when it cannot route: no Host 400, unknown service
 * 404; a service on its way (restored after a restart, restarted after a crash, woken from sleep)
 * holds the request until it serves, or 503 with {@code Retry-After}; a crashed one is 503; a backend
 * that fails is 502, one that sends nothing for {@code proxy.timeoutMs} is 504 and a warning naming
 * the service. Every request counts in its backend's in-flight number, so a swap drains it. Its
 * connections are held to a {@link dev.ferry.ConnectionGuard}'s rules.
 */
public final class Proxy extends VerticleBase {

  static final Logger log = LoggerFactory.getLogger(Proxy.class);

  private final Routes routes;
  private final String domainSuffix;
  private final String host;
  private final int port;
  private final long timeoutMs;
  private final long waitMs;
  private final int loops;
  private final dev.ferry.ConnectionGuard guard;
  private final List<Lane> lanes = new ArrayList<>();
  private Channel server;
  private ProxyMeters meters;

  /**
   * {@code config}: its port, timeout and event loops; {@code waitMs}: how long a request for a
   * service on its way (restored, restarted, woken) waits for it before 503; {@code guard}: the
   * proxy port's connection rules.
   */
  public Proxy(Routes routes, String domain, String host, dev.ferry.settings.ProxyConfig config, long waitMs,
      dev.ferry.ConnectionGuard guard) {
    this.routes = routes;
    this.guard = guard;
    this.waitMs = waitMs;
    this.domainSuffix = "." + domain.toLowerCase(Locale.ROOT);
    this.host = host;
    this.port = config.port();
    this.timeoutMs = config.timeoutMs();
    this.loops = config.effectiveInstances();
  }

  @Override
  public Future<?> start() {
    meters = new ProxyMeters(dev.ferry.Meters.registry(vertx), routes);
    List<EventLoop> mine = loops();
    for (EventLoop loop : mine) {
      Lane lane = new Lane(this, loop, VertxInternals.transport(vertx));
      lane.start(Math.max(10, Math.min(1_000, Math.min(timeoutMs, Math.min(guard.headerTimeoutMs(), guard.idleTimeoutMs())) / 10)));
      lanes.add(lane);
    }
    ServerBootstrap bootstrap = new ServerBootstrap().group(VertxInternals.acceptorLoops(vertx), VertxInternals.group(mine))
        .channelFactory(VertxInternals.transport(vertx).serverChannelFactory(false))
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new Inbound(laneOf(ch.eventLoop())));
          }
        });
    VertxInternals.transport(vertx).configure(new NetServerOptions().setTcpNoDelay(true).setReuseAddress(true), false, bootstrap);
    Promise<Void> bound = Promise.promise();
    bootstrap.bind(host, port).addListener((io.netty.channel.ChannelFuture f) -> {
      if (f.isSuccess()) {
        server = f.channel();
        log.debug("Proxy on {}:{}, {} event loop(s), transport {}", host, actualPort(), lanes.size(), server.getClass().getSimpleName());
        bound.complete();
      } else {
        bound.fail(dev.ferry.ConnectionGuard.cannotListen("the proxy", host, port, f.cause()));
      }
    });
    return bound.future();
  }

  /** {@code loops} of the platform's event loops, starting with this verticle's own. */
  private List<EventLoop> loops() {
    List<EventLoop> all = new ArrayList<>();
    for (EventExecutor e : VertxInternals.eventLoops(vertx)) all.add((EventLoop) e);
    int first = Math.max(0, all.indexOf(VertxInternals.eventLoop(context)));
    List<EventLoop> mine = new ArrayList<>();
    for (int i = 0; i < Math.min(loops, all.size()); i++) mine.add(all.get((first + i) % all.size()));
    return mine;
  }

  private Lane laneOf(EventLoop loop) {
    for (Lane l : lanes) {
      if (l.loop == loop) return l;
    }
    throw new IllegalStateException("no lane for " + loop);
  }

  @Override
  public Future<?> stop() {
    Promise<Void> closed = Promise.promise();
    lanes.forEach(Lane::close);
    if (server == null) return Future.succeededFuture();
    server.close().addListener(f -> closed.complete());
    return closed.future();
  }

  /** The port the proxy listens on (the actual one when configured as 0). */
  public int actualPort() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** The service a Host (without its port) names, or null if it names none. */
  String serviceOf(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (!h.endsWith(domainSuffix)) return null;
    String name = h.substring(0, h.length() - domainSuffix.length());
    return dev.ferry.deployment.Deployment.SERVICE_NAME.matcher(name).matches() ? name : null;
  }

  Routes routes() {
    return routes;
  }

  ProxyMeters meters() {
    return meters;
  }

  String domainSuffix() {
    return domainSuffix;
  }

  dev.ferry.ConnectionGuard guard() {
    return guard;
  }

  long timeoutMs() {
    return timeoutMs;
  }

  long waitMs() {
    return waitMs;
  }
}
