package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/** One line of a deployment's log: when, how grave, which stage said it (may be null), and what. */
public record LogLine(String deployment, Instant ts, DeploymentLog.Level level, String stage, String message) {

  public LogLine {
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(ts, "ts");
    Objects.requireNonNull(level, "level");
    message = message == null ? "" : message;
  }

  /** A line as {@code ferry.log} carries it. */
  public static LogLine fromJson(JsonObject json) {
    return new LogLine(json.getString("deployment"), Instant.parse(json.getString("ts")),
        DeploymentLog.Level.valueOf(json.getString("level").toUpperCase(Locale.ROOT)), json.getString("stage"),
        json.getString("message"));
  }

  /** {@code {ts, level, stage, message, deployment}}, as it is published and answered. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("ts", ts.toString())
        .put("level", level.name().toLowerCase(Locale.ROOT))
        .put("stage", stage)
        .put("message", message)
        .put("deployment", deployment);
  }
}
