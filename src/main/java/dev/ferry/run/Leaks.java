package dev.ferry.run;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Threads that stopped deployments left running: they keep the deployment's classloader (and all it
 * loaded) alive. Reported in the service's and the deployment's status while the threads live; a
 * restart ends them, so nothing here is stored.
 */
public final class Leaks {

  private record Leak(String service, List<WeakReference<Thread>> threads) {
    JsonArray alive() {
      JsonArray names = new JsonArray();
      for (WeakReference<Thread> ref : threads) {
        Thread t = ref.get();
        if (t != null && t.isAlive()) names.add(t.getName());
      }
      return names;
    }
  }

  private final Map<String, Leak> byDeployment = new ConcurrentHashMap<>();

  void report(String service, String deploymentId, List<Thread> threads) {
    byDeployment.put(deploymentId, new Leak(service, threads.stream().map(WeakReference::new).toList()));
  }

  /** The threads deployment {@code id} left running that still run; empty if none. */
  public JsonArray ofDeployment(String id) {
    Leak leak = byDeployment.get(id);
    if (leak == null) return new JsonArray();
    JsonArray alive = leak.alive();
    if (alive.isEmpty()) byDeployment.remove(id);
    return alive;
  }

  /** {@code [{"deployment": id, "threads": [names]}]} for the service's deployments that leak now. */
  public JsonArray ofService(String service) {
    JsonArray out = new JsonArray();
    byDeployment.forEach((id, leak) -> {
      if (!leak.service().equals(service)) return;
      JsonArray alive = ofDeployment(id);
      if (!alive.isEmpty()) out.add(new JsonObject().put("deployment", id).put("threads", alive));
    });
    return out;
  }
}
