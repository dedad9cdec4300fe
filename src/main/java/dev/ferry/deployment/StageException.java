package dev.ferry.deployment;

/**
 * A stage failed for a reason the user can act on: the message says what to fix and becomes the
 * deployment's {@code error}.
 */
public class StageException extends Exception {
  public StageException(String message) {
    super(message);
  }

  public StageException(String message, Throwable cause) {
    super(message, cause);
  }
}
