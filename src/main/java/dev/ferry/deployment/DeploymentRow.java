package dev.ferry.deployment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A deployment as the ledger keeps it: its state by name (a row cannot hold a live state's
 * runner or archive), when each stage was reached (oldest first), and what its state carries:
 * the failed stage and error, the url and port it serves on, the causes of its crashes.
 * Its JSON is the one {@link Deployment#toJson} publishes on {@code ferry.events}.
 *
 * @param errorStage the stage that failed ({@code error}); null in any other state
 * @param error      what failed ({@code error}, {@code crashed}); else null
 * @param url        where it serves ({@code deployed}, {@code sleeping}); else null
 * @param port       the port it serves on ({@code deployed}, {@code sleeping}); else null
 * @param causes     its last crashes' causes ({@code crashed}); else null
 * @param source     the deployment whose artifact this one runs again (a rollback or restart), else null
 */
public record DeploymentRow(String id, String service, String state, Instant createdAt, Instant updatedAt,
                            Map<String, Instant> timeline, Artifact artifact, String errorStage, String error, String url,
                            Integer port, List<String> causes, String source) {

  /** Fixed-width timestamps, as the ledger stores them and the API answers them. */
  public static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  public DeploymentRow {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(state, "state");
    // oldest first (a stable sort: equal times keep the order given)
    List<Map.Entry<String, Instant>> stages = new ArrayList<>(timeline.entrySet());
    stages.sort(Map.Entry.comparingByValue());
    Map<String, Instant> t = new LinkedHashMap<>();
    stages.forEach(e -> t.put(e.getKey(), e.getValue()));
    timeline = java.util.Collections.unmodifiableMap(t);
    causes = causes == null ? null : List.copyOf(causes);
  }

  /** The deployment this row records, in {@code state} (the state the caller resumes it from). */
  public Deployment deployment(DeploymentState state) {
    return new Deployment(id, service, createdAt, updatedAt, state, artifact, timeline, source);
  }

  /** A deployment as {@code ferry.events} carries it ({@link Deployment#toJson}). */
  public static DeploymentRow fromJson(JsonObject json) {
    Map<String, Instant> t = new LinkedHashMap<>();
    json.getJsonObject("timeline", new JsonObject()).forEach(e -> t.put(e.getKey(), Instant.parse((String) e.getValue())));
    JsonObject a = json.getJsonObject("artifact");
    JsonArray causes = json.getJsonArray("causes");
    List<String> c = null;
    if (causes != null) {
      c = new ArrayList<>();
      for (int i = 0; i < causes.size(); i++) c.add(causes.getString(i));
    }
    return new DeploymentRow(json.getString("id"), json.getString("service"), json.getString("state"),
        instant(json.getString("createdAt")), instant(json.getString("updatedAt")), t, a == null ? null : Artifact.fromJson(a),
        json.getString("stage"), json.getString("error"), json.getString("url"), json.getInteger("port"), c, json.getString("source"));
  }

  /** The JSON the API answers: {@link Deployment#toJson}'s shape, with fixed-width timestamps. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("id", id)
        .put("service", service)
        .put("state", state)
        .put("createdAt", ts(createdAt))
        .put("updatedAt", ts(updatedAt));
    JsonObject stages = new JsonObject();
    timeline.forEach((stage, at) -> stages.put(stage, ts(at)));
    json.put("timeline", stages);
    if (artifact != null) json.put("artifact", artifact.toJson());
    if (source != null) json.put("source", source);
    if (StateName.FAILED.is(state)) json.put("stage", errorStage).put("error", error);
    if (StateName.in(StateName.LIVE, state)) json.put("url", url).put("port", port);
    if (StateName.CRASHED.is(state)) json.put("causes", causes == null ? null : new JsonArray(causes)).put("error", error);
    return json;
  }

  static String ts(Instant at) {
    return at == null ? null : TS.format(at);
  }

  private static Instant instant(String iso) {
    return iso == null ? null : Instant.parse(iso);
  }
}
