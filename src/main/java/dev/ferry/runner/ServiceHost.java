package dev.ferry.runner;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One deployment inside a runner: the service's own classloader (child-first, the shared packages
 * from the runner), its entry verticle, and the {@code Vertx} it runs on, which is its alone (own
 * event bus, event loops, worker pool) and binds its servers through a {@link PortMap}.
 */
final class ServiceHost {

  /** How long a thread the service started has to end after its interrupt before it counts as leaked. */
  static final long LEAK_GRACE_MS = 1_000;

  final String deployment;
  final String service;
  final String entry;
  private final ServiceClassLoader loader;
  private Vertx vertx;
  private volatile boolean stopping;

  private ServiceHost(String deployment, String service, ServiceClassLoader loader, String entry) {
    this.deployment = deployment;
    this.service = service;
    this.loader = loader;
    this.entry = entry;
  }

  /** Opens the service's jars in a classloader of its own and finds its entry verticle (no class is initialised). */
  static ServiceHost load(String deployment, String service, List<Path> jars, Optional<String> named)
      throws EntryFinder.LoadFailure {
    ServiceClassLoader loader = new ServiceClassLoader(service, deployment, jars, ServiceHost.class.getClassLoader());
    try {
      return new ServiceHost(deployment, service, loader, EntryFinder.find(loader, jars.get(0), named));
    } catch (EntryFinder.LoadFailure | RuntimeException e) {
      closeQuietly(loader);
      throw e;
    }
  }

  /**
   * What a {@code load} frame asks for: the service of {@code f} loaded as {@code deployment}. The
   * warm-up's probe service is loaded through here too, so a service's load runs warmed-up code.
   */
  static ServiceHost load(String deployment, JsonObject f) throws EntryFinder.LoadFailure {
    List<Path> jars = f.getJsonArray("jars").stream().map(o -> Path.of((String) o)).toList();
    return load(deployment, f.getString("service"), jars, Optional.ofNullable(f.getString("entry")));
  }

  /** What a {@code start} frame asks for: started on {@code p}'s Vert.x, its binds heard by {@code binds}. The warm-up's too. */
  Future<Void> start(ServiceVertx.Prepared p, JsonObject f, PortMap.Listener binds, Runnable gone) {
    p.ports().assign(f.getInteger("port"), f.getInteger("routedRequest"), binds);
    ThreadingModel threading = "worker".equals(f.getString("threading")) ? ThreadingModel.WORKER : ThreadingModel.EVENT_LOOP;
    return start(p.vertx(), f.getJsonObject("config", new JsonObject()), threading, gone);
  }

  /**
   * Deploys the entry verticle on {@code vertx} (made for this deployment) with {@code config}.
   * Completes when its start completes, as Vert.x reports it. From then on, {@code gone} runs (once)
   * if the service stops serving by itself: it undeploys its entry or closes its Vert.x.
   */
  Future<Void> start(Vertx vertx, JsonObject config, ThreadingModel threading, Runnable gone) {
    this.vertx = vertx;
    DeploymentOptions options = new DeploymentOptions().setConfig(config).setClassLoader(loader).setThreadingModel(threading);
    java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
    return vertx.deployVerticle(entry, options).onSuccess(id -> dev.ferry.common.VertxInternals.onEnd(vertx, id, () -> {
      if (!stopping && once.compareAndSet(false, true)) gone.run();
    })).mapEmpty();
  }

  /**
   * Undeploys the service and closes its Vert.x (each bounded by {@code timeoutMs}), closes its
   * jars, then interrupts the threads it started itself; returns the names of those still running
   * {@link #LEAK_GRACE_MS} later; {@code warn} hears what did not stop in time. Blocks.
   */
  List<String> stop(long timeoutMs, java.util.function.Consumer<String> warn) {
    stopping = true;
    if (vertx != null) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(Math.max(1, timeoutMs), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        warn.accept("Closing the Vert.x of " + service + " " + deployment + " did not finish within " + timeoutMs
            + " ms (is a handler blocking its thread?): " + e);
      }
    }
    closeQuietly(loader);
    List<Thread> started = threadsOf(loader);
    started.forEach(Thread::interrupt);
    long deadline = System.currentTimeMillis() + LEAK_GRACE_MS;
    for (Thread t : started) {
      try {
        t.join(Math.max(1, deadline - System.currentTimeMillis()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    List<String> alive = new ArrayList<>();
    for (Thread t : started) if (t.isAlive()) alive.add(t.getName());
    return alive;
  }

  /** Live threads the service started: its classloader is their context loader or defined their class. */
  private static List<Thread> threadsOf(ClassLoader loader) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t != Thread.currentThread()
            && (t.getContextClassLoader() == loader || t.getClass().getClassLoader() == loader))
        .toList();
  }

  ServiceClassLoader loader() {
    return loader;
  }

  private static void closeQuietly(ServiceClassLoader loader) {
    try {
      loader.close();
    } catch (IOException ignored) {
      // the jars are read-only; nothing is lost
    }
  }

  /** Why its verticle failed to start: {@code e}, and its root cause. */
  String startFailure(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String what = root == e ? e.toString() : e + " (caused by " + root + ")";
    return "The verticle " + entry + " failed to start: " + what;
  }
}
