package dev.ferry.deployment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a build produced: the service's jar, the jars it bundles, the jar's sha256, the entry
 * verticle named by the service (empty when the loader must discover it), the sha256 of the source
 * tree it was built from (null if unknown), the HTTP path the runtime probes for readiness (null:
 * a TCP connect to the service's port is the probe) and how the service asks to be run.
 */
public record Artifact(Path jar, List<Path> dependencies, String sha256, Optional<String> entry, String sourceHash,
                       String readinessPath, RunSettings settings) {

  public Artifact {
    Objects.requireNonNull(jar, "jar");
    dependencies = List.copyOf(dependencies);
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(entry, "entry");
    readinessPath = readinessPath == null || readinessPath.isBlank() ? null : readinessPath;
    settings = settings == null ? RunSettings.DEFAULT : settings;
  }

  public Artifact(Path jar, List<Path> dependencies, String sha256, Optional<String> entry) {
    this(jar, dependencies, sha256, entry, null, null, RunSettings.DEFAULT);
  }

  /** This artifact, built from a source tree of hash {@code sourceHash}, probed on {@code readinessPath}, run as {@code settings} say. */
  public Artifact with(String sourceHash, String readinessPath, RunSettings settings) {
    return new Artifact(jar, dependencies, sha256, entry, sourceHash, readinessPath, settings);
  }

  /** The same artifact with its jar at {@code jar} (a copy of this one's). */
  public Artifact at(Path jar) {
    return new Artifact(jar, dependencies, sha256, entry, sourceHash, readinessPath, settings);
  }

  public JsonObject toJson() {
    JsonArray deps = new JsonArray();
    dependencies.forEach(d -> deps.add(d.toString()));
    return new JsonObject().put("sha256", sha256).put("path", jar.toString()).put("entry", entry.orElse(null))
        .put("dependencies", deps).put("sourceHash", sourceHash).put("readinessPath", readinessPath).put("settings", settings.toJson());
  }

  /** The artifact a deployment's JSON describes ({@code artifact} of {@link Deployment#toJson}). */
  public static Artifact fromJson(JsonObject json) {
    List<Path> deps = new ArrayList<>();
    JsonArray a = json.getJsonArray("dependencies", new JsonArray());
    for (int i = 0; i < a.size(); i++) deps.add(Path.of(a.getString(i)));
    return new Artifact(Path.of(json.getString("path")), deps, json.getString("sha256"),
        Optional.ofNullable(json.getString("entry")), json.getString("sourceHash"), json.getString("readinessPath"),
        RunSettings.fromJson(json.getJsonObject("settings")));
  }
}
