package dev.ferry.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.spi.transport.Transport;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One proxy event loop's share of the work: the client connections it serves, the connections to
 * backends it keeps open between requests (per deployment, so a new deployment on a reused port
 * never gets an old one's connection), and a sweep that enforces {@code proxy.timeoutMs}, closes
 * idle backend connections, and client connections past the connection guard's header or idle
 * timeout. Everything here runs on that loop's thread: no locks.
 */
final class Lane {

  /** Idle connections kept per backend and loop. */
  static final int MAX_IDLE = 256;
  /** How long an idle backend connection is kept. */
  static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final Proxy proxy;
  final EventLoop loop;
  private final Transport transport;
  final Set<Inbound> clients = new HashSet<>();
  /** Where heads are copied to be read. */
  final byte[] scratch = new byte[Http1.SCRATCH];
  /** Host header → the service it names ("" for none), so a host is checked once, not per request. */
  private final Map<String, String> services = new HashMap<>();
  private final Map<Routes.Backend, Pool> idle = new HashMap<>();
  private ScheduledFuture<?> sweeper;

  /** A backend's idle connections on this loop, most recently used last. */
  private static final class Pool {
    final String service;
    final ArrayDeque<Outbound> connections = new ArrayDeque<>();

    Pool(String service) {
      this.service = service;
    }
  }

  Lane(Proxy proxy, EventLoop loop, Transport transport) {
    this.proxy = proxy;
    this.loop = loop;
    this.transport = transport;
  }

  Proxy proxy() {
    return proxy;
  }

  ProxyMeters meters() {
    return proxy.meters();
  }

  void start(long sweepMs) {
    loop.execute(() -> sweeper = loop.scheduleAtFixedRate(this::sweep, sweepMs, sweepMs, TimeUnit.MILLISECONDS));
  }

  /** The service a Host header names, or null. */
  String serviceOf(String host) {
    String s = services.get(host);
    if (s == null) {
      s = proxy.serviceOf(Inbound.hostOnly(host));
      if (services.size() >= 4096) services.clear();
      services.put(host, s == null ? "" : s);
    }
    return s == null || s.isEmpty() ? null : s;
  }

  /** An idle connection to {@code backend}, or null. */
  Outbound idle(Routes.Backend backend) {
    Pool p = idle.get(backend);
    if (p == null) return null;
    Outbound o;
    while ((o = p.connections.pollLast()) != null) {
      if (o.channel().isActive()) return o;
    }
    return null;
  }

  /** {@code o} is done with {@code e}: kept for the next request to its backend while that backend still serves. */
  void release(Exchange e, Outbound o) {
    Pool p = idle.computeIfAbsent(e.backend, b -> new Pool(e.service));
    if (proxy.routes().get(e.service) != e.backend || p.connections.size() >= MAX_IDLE) {
      o.channel().close();
      return;
    }
    o.idleSince = System.nanoTime();
    // it may have been paused for a slow client at the very end of its response
    o.pause(false);
    p.connections.addLast(o);
  }

  /** An idle connection closed. */
  void forget(Outbound o) {
    Pool p = idle.get(o.backend);
    if (p != null) p.connections.remove(o);
  }

  /** Opens a connection to {@code e}'s backend for it; 502 if that fails. */
  void connect(Exchange e) {
    Outbound o = new Outbound(this, e.backend);
    new Bootstrap().group(loop).channelFactory(transport.channelFactory(false))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, Math.max(1_000, proxy.timeoutMs())))
        .handler(o)
        .connect(new InetSocketAddress(LOOPBACK, e.backend.port()))
        .addListener(f -> {
          if (e.in.exchange != e) {
            // the client left meanwhile: keep the connection for someone else
            if (f.isSuccess()) release(e, o);
          } else if (f.isSuccess()) {
            e.attach(o);
          } else {
            e.in.backendFailed(e, null, String.valueOf(f.cause() == null ? "connect failed" : f.cause().getMessage()));
          }
        });
  }

  /** Timeouts of exchanges waiting for their service, and idle connections past their time or to a backend no longer routed. */
  private void sweep() {
    long now = System.nanoTime();
    long timeout = TimeUnit.MILLISECONDS.toNanos(proxy.timeoutMs());
    dev.ferry.ConnectionGuard guard = proxy.guard();
    long headTimeout = TimeUnit.MILLISECONDS.toNanos(guard.headerTimeoutMs());
    long idleTimeout = TimeUnit.MILLISECONDS.toNanos(guard.idleTimeoutMs());
    List<Inbound> late = null;
    List<Inbound> cut = null;
    for (Inbound c : clients) {
      Exchange e = c.exchange;
      if (e != null && !e.tunnel && now - e.lastActivity >= timeout) {
        if (late == null) late = new ArrayList<>();
        late.add(c);
      } else if (e == null && ((c.headSince != 0 && now - c.headSince >= headTimeout)
          || (c.quietSince != 0 && now - c.quietSince >= idleTimeout))) {
        if (cut == null) cut = new ArrayList<>();
        cut.add(c);
      }
    }
    if (cut != null) {
      // no complete request head in time (ConnectionGuard's rule), or kept alive with nothing in flight too long
      for (Inbound c : cut) {
        if (c.headSince != 0) guard.headerTimedOut(c.channel().remoteAddress());
        c.channel().close();
      }
    }
    if (late != null) {
      for (Inbound c : late) {
        Exchange e = c.exchange;
        if (e != null) c.timedOut(e, proxy.timeoutMs());
      }
    }
    List<Outbound> closing = new ArrayList<>();
    for (Iterator<Map.Entry<Routes.Backend, Pool>> it = idle.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Routes.Backend, Pool> entry = it.next();
      Pool p = entry.getValue();
      boolean routed = proxy.routes().get(p.service) == entry.getKey();
      for (Iterator<Outbound> os = p.connections.iterator(); os.hasNext(); ) {
        Outbound o = os.next();
        if (!routed || now - o.idleSince > IDLE_NANOS) {
          os.remove();
          closing.add(o);
        }
      }
      if (p.connections.isEmpty() && !routed) it.remove();
    }
    closing.forEach(o -> o.channel().close());
  }

  /** Closes every connection of this lane (the proxy stops). */
  void close() {
    loop.execute(() -> {
      if (sweeper != null) sweeper.cancel(false);
      for (Inbound c : List.copyOf(clients)) c.channel().close();
      for (Pool p : idle.values()) {
        for (Outbound o : p.connections) o.channel().close();
      }
      idle.clear();
    });
  }
}
