package dev.ferry.deployment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How records map to the ledger's rows and back: a deployment is one row of {@code deployments}
 * (its artifact's lists and settings as JSON text), a log line one row of {@code log_lines}.
 * Timestamps are fixed-width text ({@link DeploymentRow#TS}), so that text order is time order.
 */
final class LedgerRows {

  /** Stage timestamps kept in columns of their own ({@code <state>_at}), one per state. */
  static final List<String> STAGES = java.util.Arrays.stream(StateName.values()).map(StateName::wire).toList();
  static final String COLUMNS = "id, service, state, created_at, updated_at, "
      + String.join(", ", STAGES.stream().map(s -> s + "_at").toList()) + ", error_stage, error, artifact_path, "
      + "artifact_sha256, entry, dependencies, source_hash, readiness_path, port, url, run_settings, crash_causes, source_id";
  static final String LOG_COLUMNS = "deployment, ts, level, stage, message";

  private LedgerRows() {
  }

  /** The values of {@link #COLUMNS} for {@code d}, in order. */
  static Object[] values(DeploymentRow d) {
    Artifact a = d.artifact();
    List<Object> v = new ArrayList<>();
    v.add(d.id());
    v.add(d.service());
    v.add(d.state());
    v.add(DeploymentRow.ts(d.createdAt()));
    v.add(DeploymentRow.ts(d.updatedAt()));
    for (String stage : STAGES) v.add(DeploymentRow.ts(d.timeline().get(stage)));
    v.add(d.errorStage());
    v.add(d.error());
    v.add(a == null ? null : a.jar().toString());
    v.add(a == null ? null : a.sha256());
    v.add(a == null ? null : a.entry().orElse(null));
    v.add(a == null ? null : new JsonArray(a.dependencies().stream().map(Path::toString).toList()).encode());
    v.add(a == null ? null : a.sourceHash());
    v.add(a == null ? null : a.readinessPath());
    v.add(d.port());
    v.add(d.url());
    v.add(a == null ? null : a.settings().toJson().encode());
    v.add(d.causes() == null ? null : new JsonArray(d.causes()).encode());
    v.add(d.source());
    return v.toArray();
  }

  /** The deployment on the current row of {@code rs} (all of {@link #COLUMNS}). */
  static DeploymentRow deployment(ResultSet rs) throws SQLException {
    Map<String, Instant> timeline = new LinkedHashMap<>();
    for (String stage : STAGES) {
      Instant at = instant(rs.getString(stage + "_at"));
      if (at != null) timeline.put(stage, at);
    }
    Artifact artifact = null;
    String path = rs.getString("artifact_path");
    if (path != null) {
      List<Path> deps = new ArrayList<>();
      for (Object dep : new JsonArray(rs.getString("dependencies"))) deps.add(Path.of((String) dep));
      String settings = rs.getString("run_settings");
      artifact = new Artifact(Path.of(path), deps, rs.getString("artifact_sha256"), Optional.ofNullable(rs.getString("entry")),
          rs.getString("source_hash"), rs.getString("readiness_path"), RunSettings.fromJson(settings == null ? null : new JsonObject(settings)));
    }
    String causes = rs.getString("crash_causes");
    List<String> c = null;
    if (causes != null) {
      c = new ArrayList<>();
      for (Object cause : new JsonArray(causes)) c.add((String) cause);
    }
    int p = rs.getInt("port");
    Integer port = rs.wasNull() ? null : p;
    return new DeploymentRow(rs.getString("id"), rs.getString("service"), rs.getString("state"), instant(rs.getString("created_at")),
        instant(rs.getString("updated_at")), timeline, artifact, rs.getString("error_stage"), rs.getString("error"),
        rs.getString("url"), port, c, rs.getString("source_id"));
  }

  /** The values of {@link #LOG_COLUMNS} for {@code line}, in order. */
  static Object[] values(LogLine line) {
    return new Object[] {line.deployment(), line.ts().toString(), line.level().name().toLowerCase(java.util.Locale.ROOT), line.stage(),
        line.message()};
  }

  /** The log line on the current row of {@code rs} (all of {@link #LOG_COLUMNS}). */
  static LogLine line(ResultSet rs) throws SQLException {
    return new LogLine(rs.getString("deployment"), Instant.parse(rs.getString("ts")),
        DeploymentLog.Level.valueOf(rs.getString("level").toUpperCase(java.util.Locale.ROOT)), rs.getString("stage"),
        rs.getString("message"));
  }

  private static Instant instant(String ts) {
    return ts == null ? null : Instant.parse(ts);
  }
}
