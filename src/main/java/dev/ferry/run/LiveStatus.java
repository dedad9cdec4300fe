package dev.ferry.run;

import dev.ferry.deployment.LiveView;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the run stage knows of deployments that the ledger does not keep, for their status: how
 * often a serving deployment's runner crashed and was restarted, and why last; and threads that
 * stopped deployments left running in a shared runner (a runner of its own exits, its threads with
 * it), which keep their classloader alive until that runner ends.
 */
public final class LiveStatus implements LiveView {

  private record Leak(String service, String runner, List<String> threads) {
  }

  private record Restarts(String service, int count, String lastCause) {
  }

  private final Map<String, Leak> leaks = new ConcurrentHashMap<>();
  private final Map<String, Restarts> restarts = new ConcurrentHashMap<>();

  void leaked(String service, String deploymentId, String runner, List<String> threads) {
    leaks.put(deploymentId, new Leak(service, runner, List.copyOf(threads)));
  }

  void crashed(String service, String deploymentId, String cause) {
    restarts.merge(deploymentId, new Restarts(service, 1, cause), (a, b) -> new Restarts(service, a.count + 1, cause));
  }

  /** The deployment no longer runs: its restarts are history (its log keeps them). */
  void ended(String deploymentId) {
    restarts.remove(deploymentId);
  }

  /** The runner ended: whatever its deployments left running ended with it. */
  void runnerEnded(String runner) {
    leaks.values().removeIf(l -> l.runner().equals(runner));
  }

  /** {@code status} with {@code restarts}, {@code lastCrash} and {@code leaks} of deployment {@code id} added where there are any. */
  @Override
  public JsonObject addTo(JsonObject status, String id) {
    Restarts r = restarts.get(id);
    if (r != null) status.put("restarts", r.count).put("lastCrash", r.lastCause);
    Leak l = leaks.get(id);
    if (l != null) status.put("leaks", new JsonArray(l.threads()));
    return status;
  }

  /** {@code status} (a service's) with {@code leaks}: {@code [{"deployment": id, "threads": [names]}]}, where there are any. */
  @Override
  public JsonObject addToService(JsonObject status, String service) {
    JsonArray out = new JsonArray();
    leaks.forEach((id, leak) -> {
      if (leak.service().equals(service)) out.add(new JsonObject().put("deployment", id).put("threads", new JsonArray(leak.threads())));
    });
    if (!out.isEmpty()) status.put("leaks", out);
    JsonObject current = status.getJsonObject("current");
    if (current != null) addTo(current, current.getString("id"));
    return status;
  }
}
