package dev.ferry.sdk;

import dev.ferry.deployment.DeploymentLog;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A service's log, kept by Ferry with its deployment: {@code ferry logs NAME --follow} shows it.
 * Call it from the service's own Vert.x threads (its verticle's event loop or workers), where Ferry
 * knows which deployment is speaking. Elsewhere, and outside Ferry, lines go to
 * {@code java.util.logging}, so the same code runs on plain Vert.x.
 *
 * <p>Plain {@code java.util.logging} from those threads is captured as well; this class only
 * saves a logger.
 */
public final class ServiceLog {

  private static final Logger fallback = Logger.getLogger(ServiceLog.class.getName());

  private ServiceLog() {
  }

  public static void info(String message) {
    log(DeploymentLog.Level.INFO, message);
  }

  public static void warn(String message) {
    log(DeploymentLog.Level.WARN, message);
  }

  public static void error(String message) {
    log(DeploymentLog.Level.ERROR, message);
  }

  /** The id of the Ferry deployment whose code runs on {@code context}, or null. */
  public static String deploymentOf(Context context) {
    if (context == null || context.config() == null) return null;
    return context.config().getString(ServiceConfig.DEPLOYMENT);
  }

  private static void log(DeploymentLog.Level level, String message) {
    Context ctx = Vertx.currentContext();
    String id = deploymentOf(ctx);
    if (id == null) {
      fallback.log(level == DeploymentLog.Level.ERROR ? Level.SEVERE : level == DeploymentLog.Level.WARN ? Level.WARNING : Level.INFO, message);
      return;
    }
    new DeploymentLog(ctx.owner()).line(id, level, "service", message);
  }
}
