package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.StateName;
import dev.ferry.proxy.Routes;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A platform restart for {@link ServiceRuntime}: runners that outlived the platform are adopted
 * with the deployments they still serve; the crashes each counted before are remembered.
 */
final class Adoption {

  private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);

  private final ServiceRuntime runtime;
  private final DeploymentLog deploymentLog;
  private final Routes routes;
  private final RunConfig config;
  private final Runners runners;
  private final PortRange ports;
  private final Resources resources;
  private final Map<String, Running> running;
  private final io.vertx.core.Context context;
  private final Vertx vertx;
  /** Crashes of deployments being restored, from before the restart: they count toward the limit. */
  private final Map<String, Prior> priorCrashes = new java.util.concurrent.ConcurrentHashMap<>();

  Adoption(ServiceRuntime runtime) {
    this.runtime = runtime;
    this.deploymentLog = runtime.deploymentLog();
    this.routes = runtime.routes();
    this.config = runtime.settings();
    this.runners = runtime.runners();
    this.ports = runtime.ports();
    this.resources = runtime.resources();
    this.running = runtime.running();
    this.context = runtime.context();
    this.vertx = runtime.vertx();
  }

  /**
   * After a platform restart: for each of {@code currents} (the deployment the ledger says serves
   * each service) whose runner still serves it, routes the service to it without restarting
   * anything. Runners left over that serve none of them are stopped, but for idle warm runners never
   * given a service, which join the warm pool ({@link Runners#keepWarm}). A deployment that slept stays
   * asleep; with {@code run.idleTimeoutMs} set, one whose runner is gone is put to sleep, to start
   * on its first request. Completes with the rows left, which need starting again now (all of them
   * when nothing sleeps, {@code run.idleTimeoutMs} 0; else those a kill caught on their way back,
   * which hold no port); until then their services' requests wait.
   */
  Future<List<DeploymentRow>> adopt(List<DeploymentRow> currents) {
    if (vertx.getOrCreateContext() != context) {
      Promise<List<DeploymentRow>> p = Promise.promise();
      context.runOnContext(v -> adopt(currents).onComplete(p));
      return p.future();
    }
    Map<String, DeploymentRow> byId = new HashMap<>();
    for (DeploymentRow row : currents) {
      if (StateName.SLEEPING.is(row.state())) {
        runtime.sleeps().restoreAsleep(row, true);
        continue;
      }
      byId.put(row.id(), row);
      routes.expect(row.service(), ServiceRuntime.RESTORE_EXPECTED_MS);
    }
    long t0 = System.nanoTime();
    return runners.adoptable().map(found -> {
      log.debug("Found {} runners to adopt in {} ms", found.size(), (System.nanoTime() - t0) / 1_000_000);
      for (Runner runner : found) {
        boolean serves = false;
        for (Object o : runner.hosted) {
          JsonObject h = (JsonObject) o;
          DeploymentRow row = byId.remove(h.getString("deployment"));
          if (row != null && h.getInteger("port", -1).equals(row.port())) {
            adoptOne(row, runner, row.port());
            serves = true;
          } else if (runner.shared) {
            // a stale service in a shared runner that also serves current ones
            runner.request("stop", new JsonObject().put("deployment", h.getString("deployment")).put("timeoutMs", 1_000), 5_000);
          }
        }
        // an idle warm runner of the last control plane joins this one's pool; any other serving nothing exits
        if (!serves && !runners.keepWarm(runner)) runner.exit(config.drainTimeoutMs());
      }
      // routed early on a port that accepted (Restorer.routeLive), but no runner of ours says it serves it there
      for (DeploymentRow row : byId.values()) routes.remove(row.service(), row.id());
      if (config.idleTimeoutMs() <= 0) return List.copyOf(byId.values());
      // one a kill caught on its way back has no port to sleep on: it starts now
      List<DeploymentRow> start = new java.util.ArrayList<>();
      for (DeploymentRow row : byId.values()) {
        if (row.port() == null) start.add(row);
        else runtime.sleeps().restoreAsleep(row, false);
      }
      return start;
    });
  }

  private void adoptOne(DeploymentRow row, Runner runner, int port) {
    Deployment d = row.deployment(new Deployed(port));
    Running r = new Running(d, d.artifact(), port, runner);
    r.serving = true;
    seedCrashes(r);
    running.put(d.id(), r);
    ports.hold(port);
    runtime.events().listen(runner);
    // the route made when its port accepted stays (with the requests it counts in flight)
    routes.compute(d.service(), current -> current != null && current.deploymentId().equals(d.id()) ? current
        : current == null || runtime.starts().askedBefore(current.deploymentId(), d) ? new Routes.Backend(d.id(), port) : current);
    deploymentLog.info(d.id(), "restart", "Adopted after the platform restarted: still serving in " + runner + " on port " + port);
    // its databases' server stopped with the platform: it runs again before the service misses it
    vertx.executeBlocking(() -> {
      resources.resume(d.service(), line -> deploymentLog.info(d.id(), "resources", line));
      return null;
    }, false).onFailure(e -> deploymentLog.error(d.id(), "resources", "Could not start its databases' server again: " + e.getMessage()));
  }

  private record Prior(List<Instant> times, List<String> causes) {
  }

  /** Deployment {@code id}, about to be restored, crashed at {@code times} before the platform restarted. */
  void rememberCrashes(String id, List<Instant> times, List<String> causes) {
    if (!times.isEmpty()) priorCrashes.put(id, new Prior(List.copyOf(times), List.copyOf(causes)));
  }

  void seedCrashes(Running r) {
    Prior p = priorCrashes.remove(r.deployment.id());
    if (p == null) return;
    r.crashTimes.addAll(p.times());
    r.causes.addAll(p.causes());
  }
}
