package dev.ferry.proxy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Which deployment serves each service: written by the runtime, read by the proxy on every request. */
public final class Routes {

  /** One deployment taking traffic, with the count of requests it is serving right now. */
  public static final class Backend {
    private final String deploymentId;
    private final int port;
    private final AtomicInteger inFlight = new AtomicInteger();

    public Backend(String deploymentId, int port) {
      this.deploymentId = deploymentId;
      this.port = port;
    }

    public String deploymentId() { return deploymentId; }
    public int port() { return port; }
    public int inFlight() { return inFlight.get(); }
    void begin() { inFlight.incrementAndGet(); }
    void end() { inFlight.decrementAndGet(); }
  }

  private final Map<String, Backend> routes = new ConcurrentHashMap<>();

  public Backend get(String service) {
    return routes.get(service);
  }

  /** Routes {@code service} to {@code backend}; returns the backend it replaced, if any. */
  public Backend put(String service, Backend backend) {
    return routes.put(service, backend);
  }

  /** Atomically replaces {@code service}'s route with what {@code f} returns for the current one. */
  public void compute(String service, java.util.function.UnaryOperator<Backend> f) {
    routes.compute(service, (k, current) -> f.apply(current));
  }

  /** Removes {@code service}'s route if it still points at {@code deploymentId}. */
  public boolean remove(String service, String deploymentId) {
    Backend b = routes.get(service);
    return b != null && b.deploymentId.equals(deploymentId) && routes.remove(service, b);
  }

  public int size() {
    return routes.size();
  }
}
