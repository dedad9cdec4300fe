package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.DeploymentState.Sleeping;
import dev.ferry.deployment.Transitions;
import dev.ferry.proxy.Routes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

import static dev.ferry.run.ServiceRuntime.CHANNEL_SLACK_MS;

/**
 * Sleeping and waking for {@link ServiceRuntime}: a deployment idle for {@code run.idleTimeoutMs}
 * is drained and its runner goes, keeping its port; a request for its service wakes it.
 */
final class Sleeps {

  private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);

  private final ServiceRuntime runtime;
  private final Transitions transitions;
  private final DeploymentLog deploymentLog;
  private final Routes routes;
  private final RunConfig config;
  private final Runners runners;
  private final PortRange ports;
  private final Map<String, Running> running;
  private final io.vertx.core.Context context;

  Sleeps(ServiceRuntime runtime) {
    this.runtime = runtime;
    this.transitions = runtime.transitions();
    this.deploymentLog = runtime.deploymentLog();
    this.routes = runtime.routes();
    this.config = runtime.settings();
    this.runners = runtime.runners();
    this.ports = runtime.ports();
    this.running = runtime.running();
    this.context = runtime.context();
  }

  /** How long a request for a sleeping service may wait for it to wake. */
  long wakeMs() {
    return config.startTimeoutMs() + CHANNEL_SLACK_MS;
  }

  /** Puts to sleep every serving deployment whose backend had no request in flight for {@code run.idleTimeoutMs}. */
  void sleepIdle() {
    long now = System.nanoTime(), limit = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(config.idleTimeoutMs());
    for (Running r : List.copyOf(running.values())) {
      if (!r.serving || r.stopping || r.restarting || r.asleep) continue;
      Routes.Backend b = routes.get(r.deployment.service());
      if (b == null || !b.deploymentId().equals(r.deployment.id()) || b.inFlight() > 0 || b.idleNanos(now) < limit) continue;
      sleep(r, b);
    }
  }

  /**
   * Puts {@code r} to sleep: requests from now on wake it (its route gives way to a sleeping mark,
   * never to nothing), those in flight finish, then its verticle stops and its runner goes; it keeps
   * its port.
   */
  private void sleep(Running r, Routes.Backend b) {
    Deployment d = r.deployment;
    r.serving = false;
    r.asleep = true;
    asleep(d.service());
    routes.remove(d.service(), d.id());
    Runner runner = r.runner;
    r.sleeping = runtime.drain(b).compose(x -> runtime.stopIn(r, runner)).transform(ar -> {
      r.runner = null;
      if (!r.stopping && r.deployment.state() instanceof Deployed deployed) {
        deploymentLog.info(d.id(), "sleep", "No request for " + config.idleTimeoutMs() + " ms (run.idleTimeoutMs): asleep; the next request wakes it");
        r.deployment = transitions.publish(r.deployment, deployed.sleeping());
        RunnerMeters.slept(runtime, d.service());
        log.info("{} {} is asleep (idle for {} ms)", d.service(), d.id(), config.idleTimeoutMs());
      }
      return Future.<Void>succeededFuture();
    });
  }

  /** Marks {@code service} asleep for the proxy: a request for it wakes it, and waits. */
  private void asleep(String service) {
    routes.sleep(service, wakeMs(), () -> context.runOnContext(v -> wake(service)));
  }

  /**
   * A request came for {@code service}, which sleeps: its deployment is started again in a runner
   * (one from the warm pool), on its port, with its resources provided again, and routed; the
   * request, held meanwhile, is answered. Waking more than once at a time is one wake.
   */
  private void wake(String service) {
    Running r = null;
    for (Running x : running.values()) {
      if (x.asleep && !x.stopping && x.deployment.service().equals(service)) r = x;
    }
    if (r == null || r.waking) return;
    Running asleep = r;
    asleep.waking = true;
    long t0 = System.nanoTime();
    String id = asleep.deployment.id();
    asleep.sleeping.compose(x -> runtime.starts().relaunch(asleep)).onComplete(ar -> {
      asleep.waking = false;
      if (asleep.stopping) {
        // superseded or deleted meanwhile
        if (asleep.runner != null) runners.release(asleep.runner, config.drainTimeoutMs());
        return;
      }
      asleep.asleep = false;
      if (ar.failed()) {
        asleep.restarting = true;
        runtime.crashes().crashed(asleep, "it could not be woken: " + ar.cause().getMessage());
        return;
      }
      asleep.serving = true;
      if (asleep.deployment.state() instanceof Sleeping sleeping) {
        asleep.deployment = transitions.publish(asleep.deployment, sleeping.woken());
      }
      boolean[] routed = {false};
      routes.compute(service, current -> {
        routed[0] = current == null || current.deploymentId().equals(id);
        return routed[0] ? new Routes.Backend(id, asleep.port) : current;
      });
      long ms = (System.nanoTime() - t0) / 1_000_000;
      if (!routed[0]) {
        log.info("{} {} woke after a newer deployment took over; stopping it", service, id);
        runtime.stop(asleep, false);
        return;
      }
      RunnerMeters.woke(runtime, service, System.nanoTime() - t0);
      deploymentLog.info(id, "wake", "Woken by a request: serving again in " + asleep.runner + " after " + ms + " ms");
      log.info("{} {} woke in {} ms", service, id, ms);
    });
  }

  /** A deployment restored asleep after a restart (it slept, or its runner did not outlive the platform). */
  void restoreAsleep(DeploymentRow row, boolean wasSleeping) {
    int port = row.port();
    Deployment d = row.deployment(wasSleeping ? new Sleeping(port) : new Deployed(port));
    Running r = new Running(d, d.artifact(), port, null);
    r.asleep = true;
    r.sleeping = Future.succeededFuture();
    // crashes before the platform restarted still count when it wakes
    runtime.adoption().seedCrashes(r);
    running.put(d.id(), r);
    ports.hold(port);
    asleep(d.service());
    if (!wasSleeping) {
      r.deployment = transitions.publish(d, ((Deployed) d.state()).sleeping());
      deploymentLog.info(d.id(), "restart", ServiceRuntime.RESTORED_ASLEEP);
    }
  }
}
