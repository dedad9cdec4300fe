package dev.ferry.sdk;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A service's log, kept by Ferry with its deployment: {@code ferry logs NAME --follow} shows it.
 * A thin name for {@code java.util.logging}: on Ferry, the runner gives every line a service writes
 * (JUL, SLF4J bound to JUL, {@code System.out} and {@code System.err}) to its deployment's log;
 * outside Ferry the lines go wherever JUL is configured, so the same code runs on plain Vert.x.
 */
public final class ServiceLog {

  private static final Logger log = Logger.getLogger("ferry.service");

  private ServiceLog() {
  }

  public static void info(String message) {
    log.log(Level.INFO, message);
  }

  public static void warn(String message) {
    log.log(Level.WARNING, message);
  }

  public static void error(String message) {
    log.log(Level.SEVERE, message);
  }
}
