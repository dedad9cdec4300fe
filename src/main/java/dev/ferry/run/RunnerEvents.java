package dev.ferry.run;

import dev.ferry.deployment.DeploymentLog;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What runners tell {@link ServiceRuntime}: their deployments' log lines, a bound port, a service
 * gone, and a runner's end (a crash of what it ran, unless it was asked to exit).
 */
final class RunnerEvents {

  private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);

  private final ServiceRuntime runtime;
  private final DeploymentLog deploymentLog;
  private final LiveStatus live;
  private final Map<String, Running> running;
  private final Set<String> listening = new HashSet<>();

  RunnerEvents(ServiceRuntime runtime) {
    this.runtime = runtime;
    this.deploymentLog = runtime.deploymentLog();
    this.live = runtime.live();
    this.running = runtime.running();
  }

  /** Hears {@code runner}'s events and its end (once per runner). */
  void listen(Runner runner) {
    if (!listening.add(runner.id)) return;
    runner.events(e -> onEvent(runner, e));
    runner.ended().onSuccess(cause -> {
      listening.remove(runner.id);
      live.runnerEnded(runner.id);
      // asked to exit (replaced, deleted, the platform stopping): no crash
      if (runner.exiting()) return;
      for (Running r : List.copyOf(running.values())) {
        if (r.runner == runner) runtime.crashes().crashed(r, runner + " " + cause);
      }
    });
  }

  /** A runner's event counts only for a deployment that runner hosts: a runner cannot speak for another's. */
  private void onEvent(Runner runner, JsonObject e) {
    String id = e.getString("deployment");
    Running r = id == null ? soleOn(runner) : running.get(id);
    if (r == null || r.runner != runner) {
      if ("log".equals(e.getString("ev"))) log.debug("{}: {}", runner, e.getString("message"));
      return;
    }
    switch (e.getString("ev")) {
      case "log" -> {
        if (runner.budget.take()) {
          String dropped = runner.budget.droppedNotice();
          if (dropped != null) deploymentLog.warn(r.deployment.id(), "runner", dropped);
          String stage = e.getString("stage", "service"), message = e.getString("message", "");
          deploymentLog.line(r.deployment.id(), level(e.getString("level")), stage, message);
          // Vert.x's own warnings about the service (a blocked event loop) concern the operator too
          if ("vertx".equals(stage) && !"info".equals(e.getString("level")) && !"debug".equals(e.getString("level"))) {
            log.warn("Service {} ({}): {}", r.deployment.service(), r.deployment.id(), message.lines().findFirst().orElse(""));
          }
        }
      }
      case "bound" -> {
        if (e.getString("failure") != null && r.bound != null) {
          r.bound.tryFail(new Runner.PortTaken("Could not listen on port " + r.port + " (asked for " + e.getInteger("requested") + "): "
              + e.getString("failure")));
        } else if (e.getInteger("port", -1) == r.port && r.bound != null) {
          r.bound.tryComplete();
        }
      }
      case "gone" -> runtime.crashes().crashed(r, e.getString("cause", "the service stopped itself"));
      default -> { }
    }
  }

  private Running soleOn(Runner runner) {
    Running found = null;
    for (Running r : running.values()) {
      if (r.runner == runner) {
        if (found != null) return null;
        found = r;
      }
    }
    return found;
  }

  private static DeploymentLog.Level level(String s) {
    try {
      return DeploymentLog.Level.valueOf(s.toUpperCase(java.util.Locale.ROOT));
    } catch (RuntimeException e) {
      return DeploymentLog.Level.INFO;
    }
  }
}
