package dev.ferry.deployment;

import java.util.List;
import java.util.Optional;

/**
 * Reads the ledger. Every method may block (a store on disk), so callers keep it off event loops;
 * reads do not wait for the writer.
 */
public interface LedgerReader {

  /** A deployment's log lines, oldest first. */
  List<LogLine> logs(String deploymentId);

  /** A deployment's log lines of one stage (such as {@code crash}), oldest first. */
  List<LogLine> logs(String deploymentId, String stage);

  Optional<DeploymentRow> deployment(String id);

  /** The service's deployments, newest first. */
  List<DeploymentRow> deployments(String service);

  /** A live (not deleted) service. */
  Optional<ServiceRow> service(String name);

  /** Every live service, by name. */
  List<ServiceRow> services();

  /** Every deployment now in one of {@code states} (by name), oldest first. */
  List<DeploymentRow> inState(java.util.Set<StateName> states);

  /** Deployments built from a source tree of hash {@code sourceHash} (with an artifact), newest first. */
  List<DeploymentRow> builtFrom(String sourceHash);
}
