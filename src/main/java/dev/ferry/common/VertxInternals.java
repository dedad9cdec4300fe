package dev.ferry.common;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.VertxEventLoopGroup;
import io.vertx.core.spi.ExecutorServiceFactory;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.transport.Transport;

import java.util.List;

/**
 * The one place Ferry touches Vert.x's internal packages (they may change in any release): the
 * Netty loops under a Vert.x, a Vert.x on a transport of our own, the channel of a connection, the
 * end of a deployment.
 */
public final class VertxInternals {

  private VertxInternals() {
  }

  /** What a blocked-thread warning says: the thread, how long it was blocked, its limit, and whether to show its stack. */
  public interface BlockedThreadHandler {
    void blocked(Thread thread, long durationNanos, long maxExecTimeNanos, boolean withStack);
  }

  /** A Vert.x on {@code transport}, its workers from {@code executors} (Vert.x's own when null). */
  public static Vertx create(VertxOptions options, Transport transport, ExecutorServiceFactory executors) {
    VertxBootstrap bootstrap = VertxBootstrap.create().options(options).transport(transport);
    if (executors != null) bootstrap = bootstrap.executorServiceFactory(executors);
    return bootstrap.init().vertx();
  }

  /** Stops {@code vertx}'s blocked-thread checker: its loops are watched by another's. */
  public static void closeBlockedThreadChecker(Vertx vertx) {
    ((VertxInternal) vertx).blockedThreadChecker().close();
  }

  /** Reports {@code vertx}'s blocked threads to {@code handler}. */
  public static void onBlockedThread(Vertx vertx, BlockedThreadHandler handler) {
    ((VertxInternal) vertx).blockedThreadChecker().setThreadBlockedHandler(e -> handler.blocked(e.thread(), e.duration(), e.maxExecTime(),
        e.duration() > e.warningExceptionTime()));
  }

  /**
   * Runs {@code hook} (on whatever thread ends it) when the deployment {@code id} of {@code vertx}
   * ends, by an undeploy or by the close of {@code vertx}: once per ending, so possibly twice; at
   * once if it has ended already.
   */
  public static void onEnd(Vertx vertx, String id, Runnable hook) {
    io.vertx.core.Closeable closeable = done -> {
      hook.run();
      done.succeed();
    };
    VertxInternal vi = (VertxInternal) vertx;
    vi.addCloseHook(closeable);
    var deployment = vi.deploymentManager().deployment(id);
    if (deployment == null) {
      hook.run(); // it has ended already
      return;
    }
    for (Context c : deployment.deployment().contexts()) ((ContextInternal) c).addCloseHook(closeable);
  }

  /**
   * Lets {@code vertx}'s event loops and acceptor sleep while there is nothing to do. With nothing
   * scheduled, a Netty 4.2 loop wakes every second (to purge cancelled timers); a no-op scheduled an
   * hour ahead on each becomes its deadline instead. Starts each loop's thread now, from this one.
   */
  public static void sleepWhenIdle(Vertx vertx) {
    for (EventLoopGroup group : List.of(eventLoops(vertx), acceptorLoops(vertx))) {
      for (io.netty.util.concurrent.EventExecutor loop : group) loop.scheduleAtFixedRate(() -> { }, 1, 1, java.util.concurrent.TimeUnit.HOURS);
    }
  }

  /** {@code vertx}'s event loops. */
  public static EventLoopGroup eventLoops(Vertx vertx) {
    return ((VertxInternal) vertx).nettyEventLoopGroup();
  }

  /** {@code vertx}'s acceptor loop(s). */
  public static EventLoopGroup acceptorLoops(Vertx vertx) {
    return ((VertxInternal) vertx).acceptorEventLoopGroup();
  }

  /** The transport {@code vertx} runs on (NIO, epoll...). */
  public static Transport transport(Vertx vertx) {
    return ((VertxInternal) vertx).transport();
  }

  /** {@code vertx}'s metrics SPI, or null. */
  public static VertxMetrics metrics(Vertx vertx) {
    return vertx instanceof VertxInternal vi ? vi.metrics() : null;
  }

  /** The Netty loop that runs {@code context}. */
  public static EventLoop eventLoop(Context context) {
    return ((ContextInternal) context).nettyEventLoop();
  }

  /** A group of exactly {@code loops}, for a Netty server on some of a Vert.x's loops. */
  public static EventLoopGroup group(List<EventLoop> loops) {
    VertxEventLoopGroup group = new VertxEventLoopGroup();
    loops.forEach(group::addWorker);
    return group;
  }

  /** The Netty channel under {@code conn}, or null when it has none we know of. */
  public static Channel channel(HttpConnection conn) {
    return conn instanceof ConnectionBase base ? base.channel() : null;
  }
}
