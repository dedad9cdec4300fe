package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * A live (not deleted) service: the deployment that serves it ({@code current}: the one that went
 * live last and is deployed or sleeping; null when none does) and its newest one ({@code latest}).
 */
public record ServiceRow(String name, DeploymentRow current, DeploymentRow latest) {

  public ServiceRow {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(latest, "latest");
  }

  /** Where it is served: its current deployment's URL, or null. */
  public String url() {
    return current == null ? null : current.url();
  }

  /** The JSON the API answers: {@code {name, url, current, latest}}. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("name", name)
        .put("url", url())
        .put("current", current == null ? null : current.toJson())
        .put("latest", latest.toJson());
  }
}
