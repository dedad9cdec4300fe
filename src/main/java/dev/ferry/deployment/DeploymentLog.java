package dev.ferry.deployment;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * Every deployment's log: each line is {@code {ts, level, stage, message}} (plus {@code deployment}),
 * published on {@code ferry.logs.<id>} for watchers and sent to the {@link Recorder}, which stores it.
 * Safe to call from any thread.
 */
public final class DeploymentLog {

  /** Levels a line may carry. */
  public enum Level { DEBUG, INFO, WARN, ERROR }

  private final Vertx vertx;

  public DeploymentLog(Vertx vertx) {
    this.vertx = vertx;
  }

  public void info(String deploymentId, String stage, String message) {
    line(deploymentId, Level.INFO, stage, message);
  }

  public void warn(String deploymentId, String stage, String message) {
    line(deploymentId, Level.WARN, stage, message);
  }

  public void error(String deploymentId, String stage, String message) {
    line(deploymentId, Level.ERROR, stage, message);
  }

  public void line(String deploymentId, Level level, String stage, String message) {
    JsonObject line = new LogLine(deploymentId, Deployment.now(), level, stage, message).toJson();
    vertx.eventBus().send(Addresses.LOG, line);
    vertx.eventBus().publish(Addresses.logs(deploymentId), line);
  }
}
