package dev.ferry.deployment;

import java.time.Instant;

/**
 * Writes the ledger. Held by the {@link Recorder} alone, the one writer, which writes in the
 * order events arrive. Every method blocks, and is one transaction: a failed write (a full disk)
 * leaves the ledger as it was, and throws.
 */
public interface LedgerWriter {

  /** Records a deployment as it is now; a new deployment brings its service back if it was deleted. */
  void record(DeploymentRow deployment);

  /** Records that {@code service} was deleted at {@code at} (its history stays). */
  void deleted(String service, Instant at);

  /** Stores one log line. */
  void append(LogLine line);
}
