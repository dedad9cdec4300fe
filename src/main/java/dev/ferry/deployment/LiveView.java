package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

/**
 * What the run stage knows of deployments that the ledger does not keep (restarts after crashes,
 * threads left running), added to their status; the API reads it through this, not the run stage.
 */
public interface LiveView {

  /** {@code status} with what is known live of deployment {@code id} added. */
  JsonObject addTo(JsonObject status, String id);

  /** {@code status} (a service's) with what is known live of its deployments added. */
  JsonObject addToService(JsonObject status, String service);
}
