package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A ledger kept in memory: lost on restart. */
public final class MemoryLedger implements Ledger {

  private final Map<String, JsonObject> deployments = new LinkedHashMap<>();
  /** service name → ids of its deployments, oldest first. */
  private final Map<String, List<String>> byService = new TreeMap<>();
  private final Map<String, List<JsonObject>> logs = new LinkedHashMap<>();
  /** services deleted since their last deployment. */
  private final Map<String, String> deletedAt = new LinkedHashMap<>();

  @Override
  public synchronized void record(JsonObject event) {
    String service = event.getString("service");
    String id = event.getString("id");
    if (id == null) {
      // a service-level event: the service was deleted
      deletedAt.put(service, event.getString("updatedAt", ""));
      return;
    }
    if (!deployments.containsKey(id)) {
      byService.computeIfAbsent(service, s -> new ArrayList<>()).add(id);
      deletedAt.remove(service);
    }
    deployments.put(id, event.copy());
  }

  @Override
  public synchronized void appendLog(JsonObject line) {
    logs.computeIfAbsent(line.getString("deployment"), k -> new ArrayList<>()).add(line.copy());
  }

  @Override
  public synchronized List<JsonObject> logs(String deploymentId) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject l : logs.getOrDefault(deploymentId, List.of())) out.add(l.copy());
    return out;
  }

  @Override
  public synchronized Optional<JsonObject> deployment(String id) {
    return Optional.ofNullable(deployments.get(id)).map(JsonObject::copy);
  }

  @Override
  public synchronized List<JsonObject> deployments(String service) {
    List<String> ids = byService.getOrDefault(service, List.of());
    List<JsonObject> out = new ArrayList<>(ids.size());
    for (int i = ids.size() - 1; i >= 0; i--) out.add(deployments.get(ids.get(i)).copy());
    return out;
  }

  @Override
  public synchronized Optional<JsonObject> service(String name) {
    List<String> ids = byService.get(name);
    if (ids == null || ids.isEmpty() || deletedAt.containsKey(name)) return Optional.empty();
    JsonObject latest = deployments.get(ids.get(ids.size() - 1));
    // the newest deployment in state deployed serves the service (ids are time-ordered)
    JsonObject cur = null;
    for (int i = ids.size() - 1; i >= 0 && cur == null; i--) {
      JsonObject d = deployments.get(ids.get(i));
      if ("deployed".equals(d.getString("state"))) cur = d;
    }
    return Optional.of(new JsonObject()
        .put("name", name)
        .put("url", cur == null ? null : cur.getString("url"))
        .put("current", cur == null ? null : cur.copy())
        .put("latest", latest.copy()));
  }

  @Override
  public synchronized List<JsonObject> services() {
    List<JsonObject> out = new ArrayList<>();
    for (String name : byService.keySet()) service(name).ifPresent(out::add);
    out.sort(Comparator.comparing(s -> s.getString("name")));
    return out;
  }
}
