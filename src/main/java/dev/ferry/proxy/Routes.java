package dev.ferry.proxy;

import io.vertx.core.Future;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the proxy knows of each service, written by the run stage and read on every request: the
 * deployment serving it ({@link Backend}); or that one is on its way (being restored after a
 * restart, or restarted after a crash), so requests wait for it; or that it sleeps, so a request
 * wakes it and waits for it; or that it is down (it crashed too often), so requests get 503 rather
 * than 404. The run stage reaches the proxy only through this.
 */
public interface Routes {

  /** An empty table. */
  static Routes create() {
    return new RouteTable();
  }

  /** One deployment taking traffic, with the count of requests it is serving right now and when it last served one. */
  final class Backend {
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
  final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message, null, false, false);
    }
  }

  /** The backend serving {@code service} now, or null. */
  Backend get(String service);

  /** Routes {@code service} to {@code backend}; returns the backend it replaced, if any. Wakes those waiting. */
  Backend put(String service, Backend backend);

  /** Atomically replaces {@code service}'s route with what {@code f} returns for the current one. */
  void compute(String service, java.util.function.UnaryOperator<Backend> f);

  /** Removes {@code service}'s route if it still points at {@code deploymentId}. */
  boolean remove(String service, String deploymentId);

  /**
   * A deployment of {@code service} is on its way, for at most {@code forMs}: requests wait for it
   * rather than being told there is none.
   */
  void expect(String service, long forMs);

  /** {@code service} is down for {@code reason}: those waiting, and later requests, are told so. */
  void down(String service, String reason);

  /**
   * {@code service} sleeps: a request for it runs {@code waker} (any number of times; waking once is
   * the waker's business) and waits up to {@code wakeMs} for it to be routed again. Set before its
   * route is removed, so no request finds neither.
   */
  void sleep(String service, long wakeMs, Runnable waker);

  /** Whether {@code service} sleeps (has no route, and a request would wake it). */
  boolean isSleeping(String service);

  /** {@code service} is neither on its way nor down any more (deleted, or its activation failed). */
  void forget(String service);

  /**
   * The backend of {@code service}: now, or once the deployment on its way is routed (at most
   * {@code waitMs}). Fails with {@link Unavailable} when it is down or does not come in time; null
   * result when nothing is known of the service. Completes on {@code on}, which also keeps the time.
   */
  Future<Backend> await(String service, long waitMs, ScheduledExecutorService on);

  /** Whether a request for {@code service} would wait (a deployment is on its way) rather than be refused. */
  boolean isExpected(String service);

  /** Services that have a backend. */
  int size();
}
