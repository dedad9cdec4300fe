package dev.ferry.builder;

import dev.ferry.deployment.StageException;

/** An archive was refused: it is not a readable tar.gz, or an entry breaks a rule or a limit. */
public final class ExtractionException extends StageException {
  public ExtractionException(String message) {
    super(message);
  }

  public ExtractionException(String message, Throwable cause) {
    super(message, cause);
  }
}
