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

/** The {@link Routes} of a platform: maps of services to backends, expected, down and sleeping ones. */
final class RouteTable implements Routes {

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

  @Override
  public Backend get(String service) {
    return routes.get(service);
  }

  @Override
  public Backend put(String service, Backend backend) {
    Backend old = routes.put(service, backend);
    sleeping.remove(service);
    down.remove(service);
    wake(service, backend, null);
    return old;
  }

  @Override
  public void compute(String service, java.util.function.UnaryOperator<Backend> f) {
    Backend now = routes.compute(service, (k, current) -> f.apply(current));
    if (now != null) {
      sleeping.remove(service);
      down.remove(service);
      wake(service, now, null);
    }
  }

  @Override
  public boolean remove(String service, String deploymentId) {
    Backend b = routes.get(service);
    return b != null && b.deploymentId().equals(deploymentId) && routes.remove(service, b);
  }

  @Override
  public void expect(String service, long forMs) {
    expected.compute(service, (k, e) -> new Expected(e == null ? new ArrayList<>() : e.waiters(), System.currentTimeMillis() + forMs));
  }

  @Override
  public void down(String service, String reason) {
    down.put(service, reason);
    wake(service, null, reason);
  }

  @Override
  public void sleep(String service, long wakeMs, Runnable waker) {
    sleeping.put(service, new Sleeper(waker, wakeMs));
    // requests held for it before it was known to sleep (a restart restores it asleep after the proxy is up) wake it
    Expected e = expected.get(service);
    if (e != null) {
      boolean held;
      synchronized (e.waiters()) {
        held = !e.waiters().isEmpty();
      }
      if (held) waker.run();
    }
  }

  @Override
  public boolean isSleeping(String service) {
    return sleeping.containsKey(service) && !routes.containsKey(service);
  }

  @Override
  public void forget(String service) {
    sleeping.remove(service);
    down.remove(service);
    wake(service, null, null);
  }

  @Override
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

  @Override
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

  @Override
  public int size() {
    return routes.size();
  }
}
