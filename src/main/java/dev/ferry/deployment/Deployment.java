package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * One deployment of one service: who it is, when each stage was reached, and its current state.
 * Immutable: {@link #to(DeploymentState)} returns the deployment in its next state. {@code source}
 * is the deployment whose stored artifact this one activates again, not rebuilt (a rollback's or a
 * restart's), or null for one built from an upload.
 */
public record Deployment(String id, String service, Instant createdAt, Instant updatedAt,
                         DeploymentState state, Artifact artifact, Map<String, Instant> timeline, String source) {

  /** Service names are DNS labels. */
  public static final Pattern SERVICE_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  /** Names a service may not take: they are, or will be, the platform's own hosts. */
  public static final Set<String> RESERVED = Set.of("api", "www", "ferry", "admin", "dashboard", "metrics", "health",
      "eventbus", "proxy", "localhost");

  /** Why {@code name} cannot be a service's name, or empty if it can. */
  public static Optional<String> nameProblem(String name) {
    if (!SERVICE_NAME.matcher(name).matches()) {
      return Optional.of("Service name '" + name + "' is not a DNS label: use 1-63 of a-z, 0-9 and '-', "
          + "starting and ending with a letter or digit");
    }
    if (RESERVED.contains(name)) return Optional.of("Service name '" + name + "' is reserved");
    return Optional.empty();
  }

  public Deployment {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(state, "state");
    timeline = Map.copyOf(timeline);
  }

  /** A new deployment of {@code service}, queued with its uploaded archive. */
  public static Deployment queued(String id, String service, DeploymentState.Queued queued) {
    Instant now = now();
    return new Deployment(id, service, now, now, queued, null, Map.of(queued.name(), now), null);
  }

  /** A new deployment of {@code service} that activates {@code built} (the stored artifact of deployment {@code source}) again. */
  public static Deployment activation(String id, String service, DeploymentState.Built built, String source) {
    Instant now = now();
    return new Deployment(id, service, now, now, built, built.artifact(), Map.of(built.name(), now), source);
  }

  /**
   * The time stamped on states and log lines: milliseconds, the precision the ledger keeps, so a
   * stored timestamp equals the published one.
   */
  public static Instant now() {
    return Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
  }

  /** A fresh, time-ordered id: 9 base-36 digits of milliseconds and 4 random ones. */
  public static String newId() {
    String time = Long.toString(System.currentTimeMillis(), 36);
    String rand = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    return "0".repeat(Math.max(0, 9 - time.length())) + time + "0".repeat(4 - rand.length()) + rand;
  }

  /** This deployment in state {@code next}, its timeline extended; throws if the move is illegal (see {@link Transitions}). */
  public Deployment to(DeploymentState next) {
    Transitions.check(id, state, next);
    Instant now = now();
    Map<String, Instant> t = new LinkedHashMap<>(timeline);
    t.put(next.name(), now);
    Artifact a = next instanceof DeploymentState.Built b ? b.artifact() : artifact;
    return new Deployment(id, service, createdAt, now, next, a, t, source);
  }

  /** The public JSON view, as the API answers and {@code ferry.events} carries. */
  public JsonObject toJson(String url) {
    JsonObject json = new JsonObject()
        .put("id", id)
        .put("service", service)
        .put("state", state.name())
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString());
    JsonObject stages = new JsonObject();
    timeline.entrySet().stream().sorted(Map.Entry.comparingByValue())
        .forEach(e -> stages.put(e.getKey(), e.getValue().toString()));
    json.put("timeline", stages);
    if (artifact != null) json.put("artifact", artifact.toJson());
    if (source != null) json.put("source", source);
    if (state instanceof DeploymentState.Failed e) {
      json.put("stage", e.stage()).put("error", e.message());
    }
    if (state instanceof DeploymentState.Deployed d) {
      json.put("url", url).put("port", d.port());
    }
    if (state instanceof DeploymentState.Sleeping s) {
      json.put("url", url).put("port", s.port());
    }
    if (state instanceof DeploymentState.Crashed c) {
      json.put("causes", new io.vertx.core.json.JsonArray(c.causes()))
          .put("error", "Crashed " + c.causes().size() + " times in a row; the last: " + c.causes().get(c.causes().size() - 1));
    }
    return json;
  }
}
