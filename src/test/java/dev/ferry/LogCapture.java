package dev.ferry;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;

/** What one platform class logs while this is open: the platform log, as a test can read it. */
final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Class<?> source) {
    this((Logger) LoggerFactory.getLogger(source));
  }

  private LogCapture(Logger logger) {
    this.logger = logger;
    appender.start();
    logger.addAppender(appender);
  }

  static LogCapture of(Class<?> source) {
    return new LogCapture(source);
  }

  /** Everything the platform logs, from any class. */
  static LogCapture all() {
    return new LogCapture((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME));
  }

  /** The events so far; logging threads append under the appender's lock, so copy under it. */
  List<ILoggingEvent> events() {
    synchronized (appender) {
      return List.copyOf(appender.list);
    }
  }

  /** How many events at {@code level} (any level if null) contain every one of {@code texts}. */
  long count(Level level, String... texts) {
    return events().stream()
        .filter(e -> level == null || e.getLevel() == level)
        .filter(e -> Arrays.stream(texts).allMatch(e.getFormattedMessage()::contains))
        .count();
  }

  @Override
  public String toString() {
    return events().stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList().toString();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
  }
}
