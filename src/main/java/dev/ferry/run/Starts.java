package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.DeploymentState.Loaded;
import dev.ferry.deployment.Transitions;
import dev.ferry.proxy.Routes;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

import static dev.ferry.run.ServiceRuntime.CHANNEL_SLACK_MS;

/**
 * Starting deployments for {@link ServiceRuntime}: a loaded one in its runner on a port of
 * {@code run.portRange}, ready, then routed in place of the one it replaces (drained and stopped);
 * and one started again (woken, restarted after a crash) in a new runner on its port.
 */
final class Starts {

  private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);

  private final ServiceRuntime runtime;
  private final Transitions transitions;
  private final DeploymentLog deploymentLog;
  private final Routes routes;
  private final RunConfig config;
  private final Retention retention;
  private final Runners runners;
  private final PortRange ports;
  private final Resources resources;
  private final Map<String, Running> running;
  private final Readiness readiness;
  private final RunnerMeters meters;
  private final Vertx vertx;
  private final Map<String, Instant> deletedAt;

  Starts(ServiceRuntime runtime) {
    this.runtime = runtime;
    this.transitions = runtime.transitions();
    this.deploymentLog = runtime.deploymentLog();
    this.routes = runtime.routes();
    this.config = runtime.settings();
    this.retention = runtime.retention();
    this.runners = runtime.runners();
    this.ports = runtime.ports();
    this.resources = runtime.resources();
    this.running = runtime.running();
    this.readiness = runtime.readiness();
    this.meters = runtime.meters();
    this.vertx = runtime.vertx();
    this.deletedAt = runtime.deletedAt();
  }

  void onLoaded(Message<Deployment> msg) {
    Deployment d = msg.body();
    if (!(d.state() instanceof Loaded loaded)) {
      log.error("Runtime got {} in state {}", d.id(), d.state().name());
      return;
    }
    Runner runner = runners.get(loaded.runner());
    Instant deleted = deletedAt.get(d.service());
    String refusal = runner == null ? "Its runner " + loaded.runner() + " is gone"
        : deleted != null && deleted.isAfter(d.createdAt()) ? "The service was deleted while this deployment was in progress" : null;
    int port = refusal != null ? -1 : takePort();
    if (refusal != null || port < 0) {
      if (runner != null) runners.release(runner, config.drainTimeoutMs());
      transitions.publish(d, loaded.failed("deploy", refusal != null ? refusal : "No free port left in run.portRange " + config.portRange()));
      return;
    }
    Running r = new Running(d, loaded.artifact(), port, runner);
    r.resources = loaded.resources();
    runtime.adoption().seedCrashes(r);
    running.put(d.id(), r);
    deploymentLog.info(d.id(), "deploy", "Starting " + loaded.verticleClass() + " in " + runner + " on port " + port);
    startIn(r, runner)
        // another process took the port between its choice and the bind: once more, in a fresh runner on another
        .recover(e -> e instanceof Runner.PortTaken ? onAnotherPort(r) : Future.failedFuture(e))
        .onSuccess(v -> activate(r, loaded))
        .onFailure(e -> {
          running.remove(d.id());
          runners.release(r.runner, config.drainTimeoutMs());
          ports.release(r.port);
          // a runner that died while starting says why better than the channel it closed
          String why = r.runner.ended().isComplete() ? "The " + r.runner + " " + r.runner.ended().result() : e.getMessage();
          log.warn("Deployment {} of {} failed to start: {}", d.id(), d.service(), why);
          deploymentLog.error(d.id(), "deploy", why);
          transitions.publish(d, loaded.failed("deploy", why));
        });
  }

  /** Starts {@code r} again in a fresh runner on a fresh port (the one it had stays taken: someone else holds it). */
  private Future<Void> onAnotherPort(Running r) {
    runners.release(r.runner, config.drainTimeoutMs());
    int port = takePort();
    if (port < 0) return Future.failedFuture(new Runner.Refused("No free port left in run.portRange " + config.portRange()));
    log.warn("{} {}: port {} was taken by another process; starting again on port {}", r.deployment.service(), r.deployment.id(), r.port, port);
    deploymentLog.warn(r.deployment.id(), "deploy", "Port " + r.port + " was taken by another process; starting again on port " + port
        + " in a fresh runner");
    r.port = port;
    long timeout = config.startTimeoutMs() + CHANNEL_SLACK_MS;
    return runners.acquire(r.artifact.settings())
        .compose(runner -> {
          r.runner = runner;
          return runner.load(r.deployment.id(), r.deployment.service(), r.artifact, timeout);
        })
        .compose(entry -> startIn(r, r.runner));
  }

  private int takePort() {
    try {
      return ports.take();
    } catch (IllegalStateException e) {
      return -1;
    }
  }

  /** Starts {@code r}'s verticle in {@code runner} (where it is loaded) and waits until it is ready. */
  Future<Void> startIn(Running r, Runner runner) {
    runtime.events().listen(runner);
    r.runner = runner;
    r.bound = Promise.promise();
    long deadline = System.currentTimeMillis() + config.startTimeoutMs();
    Deployment d = r.deployment;
    JsonObject serviceConfig = r.resources.copy().put("http.port", r.port).put("http.host", ServiceRuntime.SERVICE_HOST)
        .put("ferry.service", d.service()).put("ferry.deployment", d.id());
    JsonObject start = new JsonObject().put("deployment", d.id()).put("config", serviceConfig).put("port", r.port)
        .put("routedRequest", r.artifact.settings().port().isPresent() ? r.artifact.settings().port().getAsInt() : null)
        .put("threading", config.threading());
    Future<Void> started = runner.request("start", start, config.startTimeoutMs() + CHANNEL_SLACK_MS)
        .recover(e -> Future.failedFuture(
            // its bind failed first (the runner said so before its start failed): that is the cause
            r.bound.future().failed() && r.bound.future().cause() instanceof Runner.PortTaken taken ? taken
                : new Runner.Refused(e instanceof TimeoutException
                    ? "The verticle of " + d.service() + " did not finish starting within " + config.startTimeoutMs() + " ms"
                    : e.getMessage())))
        // a start that failed ends the wait for its bind (and the probe) too
        .onFailure(e -> r.bound.tryFail(e))
        .mapEmpty();
    // probed as soon as the port is bound, while the start completes: ready once both are done
    Future<Void> ready = readiness.await(r.bound.future(), r.port, r.artifact.readinessPath(), deadline);
    // what went wrong is the start's failure if it failed (it ends within its own timeout), else the probe's
    return Future.all(started, ready).<Void>mapEmpty()
        .recover(e -> started.transform(s -> Future.failedFuture(s.failed() ? s.cause() : ready.cause())));
  }

  /** Routes the service to the new deployment unless a newer one is already serving. */
  private void activate(Running r, Loaded loaded) {
    Deployment d = r.deployment;
    Deployed deployed = loaded.deployed(r.port);
    r.serving = true;
    deploymentLog.info(d.id(), "ready", r.artifact.readinessPath() == null ? "Listening on port " + r.port
        : "GET " + r.artifact.readinessPath() + " answered on port " + r.port);
    Routes.Backend mine = new Routes.Backend(d.id(), r.port);
    Routes.Backend[] replaced = {null};
    boolean[] won = {false};
    routes.compute(d.service(), current -> {
      if (current == null || askedBefore(current.deploymentId(), d)) {
        replaced[0] = current;
        won[0] = true;
        return mine;
      }
      return current;
    });
    // "deployed" is published only once routed, so whoever sees it reaches this version
    if (!won[0]) {
      r.deployment = transitions.publish(d, deployed);
      log.info("{} {} finished after a newer deployment; stopping it", d.service(), d.id());
      runtime.stop(r, false);
      return;
    }
    // a deployment it replaces may be asleep (so not routed): it is stopped too
    for (Running o : List.copyOf(running.values())) {
      if (o != r && o.asleep && !o.stopping && o.deployment.service().equals(d.service())) runtime.stop(o, false);
    }
    log.info("{} {} is deployed in {} on port {}", d.service(), d.id(), r.runner, r.port);
    meters.track(d.service());
    deploymentLog.info(d.id(), "swap", replaced[0] == null ? "Taking traffic" : "Taking traffic from " + replaced[0].deploymentId());
    // the log's swap line comes before the state that ends a build watcher's stream
    r.deployment = transitions.publish(d, deployed);
    Running old = replaced[0] == null ? null : running.get(replaced[0].deploymentId());
    Future<Void> swapped = old == null ? Future.succeededFuture()
        : runtime.drain(replaced[0]).compose(x -> runtime.stop(old, false));
    swapped.onComplete(x -> keepLatestArtifacts(d.service()));
  }

  /** True if deployment {@code id} (running) was asked for before {@code d}: the later request wins. */
  boolean askedBefore(String id, Deployment d) {
    Running r = running.get(id);
    if (r == null) return true;
    int c = r.deployment.createdAt().compareTo(d.createdAt());
    return c < 0 || (c == 0 && id.compareTo(d.id()) < 0);
  }

  private void keepLatestArtifacts(String service) {
    Set<String> live = new HashSet<>();
    running.values().forEach(r -> {
      if (r.deployment.service().equals(service)) live.add(r.deployment.id());
    });
    vertx.executeBlocking(() -> retention.keepLatest(service, live), false)
        .onFailure(e -> log.warn("Retention for {} failed: {}", service, e.toString()));
  }

  /** Loads and starts {@code r} again in a runner (a new one, or the shared one), on its port, with its resources provided again. */
  Future<Void> relaunch(Running r) {
    String id = r.deployment.id(), service = r.deployment.service();
    long timeout = config.startTimeoutMs() + CHANNEL_SLACK_MS;
    long t0 = System.nanoTime();
    long[] at = new long[3];
    return runners.acquire(r.artifact.settings()).compose(runner -> {
      r.runner = runner;
      runtime.events().listen(runner);
      at[0] = System.nanoTime();
      // its resources again: a secret changed meanwhile is what it gets now
      return runner.load(id, service, r.artifact, timeout)
          .compose(entry -> {
            at[1] = System.nanoTime();
            return vertx.executeBlocking(() -> resources.provide(service, id, r.artifact.jar(), entry,
                line -> deploymentLog.info(id, "resources", line)), false);
          })
          .compose(provided -> {
            r.resources = provided;
            at[2] = System.nanoTime();
            return startIn(r, runner);
          })
          .onSuccess(v -> log.debug("{} {} relaunched in {}: runner {} ms, load {} ms, resources {} ms, start and ready {} ms", service, id,
              runner, (at[0] - t0) / 1_000_000, (at[1] - at[0]) / 1_000_000, (at[2] - at[1]) / 1_000_000, (System.nanoTime() - at[2]) / 1_000_000));
    });
  }
}
