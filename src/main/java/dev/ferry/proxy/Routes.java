package dev.ferry.proxy;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the proxy knows of each service, written by the run stage and read on every request: the
 * deployment serving it ({@link Backend}); or that one is on its way (being restored after a
 * restart, or restarted after a crash), so requests wait for it; or that it sleeps, so a request
 * wakes it and waits for it; or that it is down (it crashed too often), so requests get 503 rather
 * than 404.
 */
public final class Routes {

  /** One deployment taking traffic, with the count of requests it is serving right now and when it last served one. */
  public static final class Backend {
    private final String deploymentId;
    private final int port;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastUsed = System.nanoTime();
    /** The proxy's meters for this backend's service, found once. */
    ProxyMeters.PerService meters;

    public Backend(String deploymentId, int port) {
      this.deploymentId = deploymentId;
      this.port = port;
    }

    public String deploymentId() { return deploymentId; }
    public int port() { return port; }
    public int inFlight() { return inFlight.get(); }
    /** Nanoseconds ({@link System#nanoTime}) since a request last began or ended here, or since it was made. */
    public long idleNanos(long now) { return now - lastUsed; }
    void begin(long now) {
      inFlight.incrementAndGet();
      lastUsed = now;
    }
    void end(long now) {
      inFlight.decrementAndGet();
      lastUsed = now;
    }
  }

  /** A service that has no backend now, and why: requests wait for it, or are refused with this reason. */
  public static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message, null, false, false);
    }
  }

  private final Map<String, Backend> routes = new ConcurrentHashMap<>();
  /** Services whose deployment is being activated: until when it is expected, who waits for it. */
  private final Map<String, Expected> expected = new ConcurrentHashMap<>();
  private final Map<String, String> down = new ConcurrentHashMap<>();
  /** Sleeping services: what wakes each, and how long a request may wait for that. */
  private final Map<String, Sleeper> sleeping = new ConcurrentHashMap<>();

  private record Sleeper(Runnable waker, long wakeMs) {
  }

  private record Waiter(Promise<Backend> promise, Executor on) {
  }

  private record Expected(List<Waiter> waiters, long until) {
  }

  public Backend get(String service) {
    return routes.get(service);
  }

  /** Routes {@code service} to {@code backend}; returns the backend it replaced, if any. Wakes those waiting. */
  public Backend put(String service, Backend backend) {
    Backend old = routes.put(service, backend);
    sleeping.remove(service);
    down.remove(service);
    wake(service, backend, null);
    return old;
  }

  /** Atomically replaces {@code service}'s route with what {@code f} returns for the current one. */
  public void compute(String service, java.util.function.UnaryOperator<Backend> f) {
    Backend now = routes.compute(service, (k, current) -> f.apply(current));
    if (now != null) {
      sleeping.remove(service);
      down.remove(service);
      wake(service, now, null);
    }
  }

  /** Removes {@code service}'s route if it still points at {@code deploymentId}. */
  public boolean remove(String service, String deploymentId) {
    Backend b = routes.get(service);
    return b != null && b.deploymentId.equals(deploymentId) && routes.remove(service, b);
  }

  /**
   * A deployment of {@code service} is on its way, for at most {@code forMs}: requests wait for it
   * rather than being told there is none.
   */
  public void expect(String service, long forMs) {
    expected.compute(service, (k, e) -> new Expected(e == null ? new ArrayList<>() : e.waiters(), System.currentTimeMillis() + forMs));
  }

  /** {@code service} is down for {@code reason}: those waiting, and later requests, are told so. */
  public void down(String service, String reason) {
    down.put(service, reason);
    wake(service, null, reason);
  }

  /**
   * {@code service} sleeps: a request for it runs {@code waker} (any number of times; waking once is
   * the waker's business) and waits up to {@code wakeMs} for it to be routed again. Set before its
   * route is removed, so no request finds neither.
   */
  public void sleep(String service, long wakeMs, Runnable waker) {
    sleeping.put(service, new Sleeper(waker, wakeMs));
  }

  /** Whether {@code service} sleeps (has no route, and a request would wake it). */
  public boolean isSleeping(String service) {
    return sleeping.containsKey(service) && !routes.containsKey(service);
  }

  /** {@code service} is neither on its way nor down any more (deleted, or its activation failed). */
  public void forget(String service) {
    sleeping.remove(service);
    down.remove(service);
    wake(service, null, null);
  }

  /**
   * The backend of {@code service}: now, or once the deployment on its way is routed (at most
   * {@code waitMs}). Fails with {@link Unavailable} when it is down or does not come in time; null
   * result when nothing is known of the service. Completes on {@code on}, which also keeps the time.
   */
  public Future<Backend> await(String service, long waitMs, ScheduledExecutorService on) {
    Backend b = routes.get(service);
    if (b != null) return Future.succeededFuture(b);
    String reason = down.get(service);
    if (reason != null) return Future.failedFuture(new Unavailable(reason));
    Sleeper sleeper = sleeping.get(service);
    if (sleeper != null) {
      // waits as for a deployment on its way, then wakes it
      long until = System.currentTimeMillis() + sleeper.wakeMs();
      expected.compute(service, (k, x) -> x != null && x.until() >= until ? x : new Expected(x == null ? new ArrayList<>() : x.waiters(), until));
      sleeper.waker().run();
    }
    Expected e = expected.get(service);
    if (e == null || e.until() < System.currentTimeMillis()) return Future.succeededFuture(null);
    List<Waiter> ws = e.waiters();
    Promise<Backend> p = Promise.promise();
    synchronized (ws) {
      ws.add(new Waiter(p, on));
    }
    // routed between the look and the registration
    Backend late = routes.get(service);
    if (late != null) on.execute(() -> p.tryComplete(late));
    ScheduledFuture<?> timer = on.schedule(() -> p.tryFail(new Unavailable("Service " + service
        + " is starting (restored after a restart, or restarted after a crash); it did not answer within " + waitMs + " ms")),
        waitMs, TimeUnit.MILLISECONDS);
    p.future().onComplete(x -> timer.cancel(false));
    return p.future();
  }

  /** Whether a request for {@code service} would wait (a deployment is on its way) rather than be refused. */
  public boolean isExpected(String service) {
    Expected e = expected.get(service);
    return e != null && e.until() >= System.currentTimeMillis();
  }

  private void wake(String service, Backend backend, String reason) {
    Expected e = expected.remove(service);
    if (e == null) return;
    List<Waiter> ws = e.waiters();
    List<Waiter> copy;
    synchronized (ws) {
      copy = List.copyOf(ws);
    }
    for (Waiter w : copy) {
      Runnable r = () -> {
        if (backend != null) w.promise.tryComplete(backend);
        else if (reason != null) w.promise.tryFail(new Unavailable(reason));
        else w.promise.tryComplete(null);
      };
      w.on.execute(r);
    }
  }

  public int size() {
    return routes.size();
  }
}
