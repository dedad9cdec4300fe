package dev.ferry.run;

import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.DeploymentState.Sleeping;
import dev.ferry.proxy.Routes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What happens when a serving deployment's runner dies (out of memory, a halt, a native crash, a
 * kill) or the service stops itself: its cause goes to the deployment's log, requests for it wait
 * (the proxy holds them), and it is started again in a new runner after a backoff that doubles.
 * After {@link #LIMIT} crashes within {@link #WINDOW} it is {@code crashed}: not restarted, its
 * service answers 503 until a redeploy, a rollback or a restart. Neighbours never notice.
 */
final class Crashes {

  private static final Logger log = LoggerFactory.getLogger(Crashes.class);
  static final int LIMIT = 5;
  static final Duration WINDOW = Duration.ofMinutes(5);
  static final long FIRST_BACKOFF_MS = 250;
  static final long MAX_BACKOFF_MS = 8_000;
  /** How a crash's line in the deployment's log begins (a restarted platform counts them). */
  static final String CRASHED = "Crashed: ";

  private final ServiceRuntime runtime;

  Crashes(ServiceRuntime runtime) {
    this.runtime = runtime;
  }

  /** {@code r}'s runner died (or its service stopped itself) for {@code cause}. */
  void crashed(Running r, String cause) {
    if (r.stopping || !(r.serving || r.restarting)) return;
    String id = r.deployment.id(), service = r.deployment.service();
    Instant now = Instant.now();
    r.crashTimes.addLast(now);
    while (!r.crashTimes.isEmpty() && r.crashTimes.peekFirst().isBefore(now.minus(WINDOW))) r.crashTimes.pollFirst();
    r.causes.add(cause);
    r.serving = false;
    r.restarting = false;
    RunnerMeters.restarted(runtime, service);
    runtime.live().crashed(service, id, cause);
    log.warn("{} {} crashed: {}", service, id, cause);
    runtime.deploymentLog().error(id, "crash", CRASHED + cause);
    Routes routes = runtime.routes();
    routes.expect(service, MAX_BACKOFF_MS + 2 * runtime.settings().startTimeoutMs());
    routes.remove(service, id);
    if (r.runner != null && !r.runner.ended().isComplete()) runtime.runners().release(r.runner, 1_000);
    int n = r.crashTimes.size();
    if (n >= LIMIT) {
      runtime.forget(r);
      List<String> last = r.causes.subList(Math.max(0, r.causes.size() - LIMIT), r.causes.size());
      String why = "Service " + service + " crashed " + n + " times within " + WINDOW.toMinutes()
          + " minutes and is not restarted again; redeploy it, roll it back or restart it. Last: " + cause;
      runtime.deploymentLog().error(id, "crash", why);
      routes.down(service, why);
      if (r.deployment.state() instanceof Deployed deployed) runtime.transitions().publish(r.deployment, deployed.crashed(last));
      else if (r.deployment.state() instanceof Sleeping sleeping) runtime.transitions().publish(r.deployment, sleeping.crashed(last));
      return;
    }
    long delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << (n - 1));
    runtime.deploymentLog().warn(id, "restart", "Restarting in " + delay + " ms (crash " + n + " of " + LIMIT + " allowed within "
        + WINDOW.toMinutes() + " minutes)");
    r.restarting = true;
    runtime.vertx().setTimer(delay, t -> restart(r));
  }

  /** Loads and starts {@code r} again in a new runner, on its port, and routes its service back to it. */
  private void restart(Running r) {
    if (r.stopping || !runtime.running().containsKey(r.deployment.id())) return;
    String id = r.deployment.id(), service = r.deployment.service();
    runtime.relaunch(r)
        .onSuccess(v -> {
          if (r.stopping) return;
          r.serving = true;
          r.restarting = false;
          // one that crashed while being woken was sleeping in the ledger: it serves again
          if (r.deployment.state() instanceof Sleeping sleeping) r.deployment = runtime.transitions().publish(r.deployment, sleeping.woken());
          runtime.routes().compute(service, current -> current == null || current.deploymentId().equals(id)
              ? new Routes.Backend(id, r.port) : current);
          runtime.deploymentLog().info(id, "restart", "Serving again in " + r.runner);
        })
        .onFailure(e -> crashed(r, "restart failed: " + e.getMessage()));
  }
}
