package dev.ferry.run;

import dev.ferry.deployment.DeploymentLog;
import dev.ferry.sdk.ServiceLog;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Captures what services log through {@code java.util.logging} (and SLF4J bound to it) into their
 * deployment's log. A record belongs to the deployment whose verticle context the logging thread
 * runs on ({@code ferry.deployment} in its config); records from other threads are left alone.
 */
public final class ServiceLogCapture extends Handler {

  private final Vertx vertx;
  private final DeploymentLog deploymentLog;

  private ServiceLogCapture(Vertx vertx) {
    this.vertx = vertx;
    this.deploymentLog = new DeploymentLog(vertx);
    setFormatter(new SimpleFormatter());
  }

  /** Adds a capture for {@code vertx}'s services to the JUL root logger; close it to remove it. */
  public static ServiceLogCapture install(Vertx vertx) {
    ServiceLogCapture h = new ServiceLogCapture(vertx);
    Logger.getLogger("").addHandler(h);
    return h;
  }

  @Override
  public void publish(LogRecord record) {
    Context ctx = Vertx.currentContext();
    // only this platform's services: several platforms may share a JVM
    if (ctx == null || ctx.owner() != vertx || !isLoggable(record)) return;
    String id = ServiceLog.deploymentOf(ctx);
    if (id == null) return;
    String message = getFormatter().formatMessage(record);
    if (record.getThrown() != null) {
      StringWriter sw = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(sw));
      message = message + "\n" + sw.toString().stripTrailing();
    }
    deploymentLog.line(id, level(record.getLevel()), "service", message);
  }

  private static DeploymentLog.Level level(Level l) {
    if (l.intValue() >= Level.SEVERE.intValue()) return DeploymentLog.Level.ERROR;
    if (l.intValue() >= Level.WARNING.intValue()) return DeploymentLog.Level.WARN;
    if (l.intValue() >= Level.INFO.intValue()) return DeploymentLog.Level.INFO;
    return DeploymentLog.Level.DEBUG;
  }

  @Override
  public void flush() {
  }

  @Override
  public void close() {
    Logger.getLogger("").removeHandler(this);
  }
}
