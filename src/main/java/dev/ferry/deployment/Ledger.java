package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where deployments are recorded. Only the {@link Recorder} writes; the API reads. Every method
 * may block (a store on disk), so callers keep it off event loops unless the store says otherwise.
 */
public interface Ledger extends AutoCloseable {

  /** Records one event from {@code ferry.events}: a deployment's JSON, or a service deletion. */
  void record(JsonObject event);

  /** Stores one log line ({@code {ts, level, stage, message, deployment}}). */
  void appendLog(JsonObject line);

  /** A deployment's log lines, oldest first. */
  List<JsonObject> logs(String deploymentId);

  Optional<JsonObject> deployment(String id);

  /** The service's deployments, newest first. */
  List<JsonObject> deployments(String service);

  /** A live (not deleted) service: {@code {name, url, current, latest}}. */
  Optional<JsonObject> service(String name);

  /** Every live service, by name. */
  List<JsonObject> services();

  /** Every deployment now in one of {@code states}, oldest first. */
  List<JsonObject> inState(Set<StateName> states);

  /** Deployments built from a source tree of hash {@code sourceHash} (with an artifact), newest first. */
  List<JsonObject> builtFrom(String sourceHash);

  @Override
  default void close() {
  }
}
