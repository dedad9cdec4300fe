package dev.ferry.runner;

import dev.ferry.common.VertxInternals;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The Vert.x each service of a runner runs on, and what the runner reports of its memory. */
final class ServiceVertx {

  private static final long WARMUP_TIMEOUT_MS = 10_000;
  /** How long a service's worker thread may stay unused before it ends. */
  static final long IDLE_THREAD_SECONDS = 30;

  /** A Vert.x made ahead for the next service, and the port map it binds through. */
  record Prepared(Vertx vertx, PortMap ports) {
  }

  private final boolean shared;
  private final int eventLoops;
  private final Supplier<Output> output;
  private Vertx runnerVertx;

  ServiceVertx(boolean shared, int eventLoops, Supplier<Output> output) {
    this.shared = shared;
    this.eventLoops = eventLoops;
    this.output = output;
  }

  /** The JVM warmed up (until {@code serviceWaiting}), then a Vert.x for the next service. */
  Prepared warmedUp(java.util.function.BooleanSupplier serviceWaiting) {
    try {
      Warmup.run(WARMUP_TIMEOUT_MS, serviceWaiting);
    } catch (Exception e) {
      output.get().runner("warn", "Warm-up failed: " + e);
    }
    return newServiceVertx();
  }

  /**
   * A Vert.x of its own for the next service. Its worker threads end after {@link #IDLE_THREAD_SECONDS}
   * unused. In a shared runner it runs on the runner's event loops (see {@link #runnerVertx}): an
   * idle service holds no thread.
   */
  Prepared newServiceVertx() {
    PortMap map = shared ? new PortMap(VertxInternals.eventLoops(runnerVertx()), VertxInternals.acceptorLoops(runnerVertx())) : new PortMap();
    Vertx vertx = VertxInternals.create(new VertxOptions().setEventLoopPoolSize(eventLoops), map, ServiceVertx::shrinkingPool);
    // its loops are the runner's, watched by the runner's own checker: its own would be a thread per service
    if (shared) VertxInternals.closeBlockedThreadChecker(vertx);
    else VertxInternals.sleepWhenIdle(vertx);
    return new Prepared(vertx, map);
  }

  /** A worker pool whose threads are started when needed and end when idle: an idle service keeps none. */
  private static java.util.concurrent.ExecutorService shrinkingPool(java.util.concurrent.ThreadFactory factory, Integer concurrency,
                                                                    Integer max) {
    int n = max == null || max <= 0 ? 20 : max;
    java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(n, n, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
        new java.util.concurrent.LinkedBlockingQueue<>(), factory);
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * The shared runner's own Vert.x: its event loops and acceptor are the ones every service of the
   * runner runs on, and its checker reports a blocked loop in the log of the deployment whose code
   * blocked it.
   */
  private synchronized Vertx runnerVertx() {
    if (runnerVertx == null) {
      runnerVertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(eventLoops))
          .withTransport(io.vertx.core.transport.Transport.NIO).build();
      VertxInternals.onBlockedThread(runnerVertx, (t, d, max, stack) -> output.get().blocked(t, d, max, stack));
      // its loops started now, from the runner's code: a thread started lazily under a service's code would
      // keep that service's classloader as its context loader, and alive, for as long as the runner runs
      VertxInternals.sleepWhenIdle(runnerVertx);
    }
    return runnerVertx;
  }

  /** What the runner holds: live service loaders (and the threads that keep them), hosts, threads, heap. */
  static JsonObject stats(boolean gc, Set<ServiceClassLoader> loaders, int hosts) {
    if (gc) {
      for (int i = 0; i < 5; i++) {
        System.gc();
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    Runtime rt = Runtime.getRuntime();
    List<ServiceClassLoader> alive;
    synchronized (loaders) {
      alive = List.copyOf(loaders);
    }
    // which threads still have a live service loader as their context loader (what keeps it, usually)
    JsonObject holders = new JsonObject();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getContextClassLoader() instanceof ServiceClassLoader s && alive.contains(s)) {
        holders.put(t.getName(), s.service() + " " + s.deployment());
      }
    }
    JsonArray names = new JsonArray();
    alive.forEach(l -> names.add(l.service() + " " + l.deployment()));
    return new JsonObject().put("loaders", alive.size()).put("alive", names).put("heldBy", holders).put("hosts", hosts)
        .put("threads", Thread.activeCount()).put("heapUsed", rt.totalMemory() - rt.freeMemory());
  }
}
