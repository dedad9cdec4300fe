package dev.ferry.deployment;

import java.util.List;

/**
 * A stage failed for a reason the user can act on: the message says what to fix and becomes the
 * deployment's {@code error}. It may carry details (say, one compiler diagnostic each, several lines
 * long), each logged as one line of the deployment's log after the summary.
 */
public class StageException extends Exception {

  private final List<String> details;

  public StageException(String message) {
    super(message);
    this.details = List.of();
  }

  public StageException(String message, Throwable cause) {
    super(message, cause);
    this.details = List.of();
  }

  /** {@code summary}, then {@code details}: the message is all of them, one after the other. */
  public StageException(String summary, List<String> details) {
    super(details.isEmpty() ? summary : summary + "\n" + String.join("\n", details));
    this.details = List.copyOf(details);
  }

  /** The deployment log's lines for this failure: the summary and each detail, or each line of the message. */
  public List<String> logLines() {
    if (details.isEmpty()) return getMessage().lines().toList();
    List<String> lines = new java.util.ArrayList<>(List.of(getMessage().lines().findFirst().orElse("")));
    lines.addAll(details);
    return lines;
  }
}
