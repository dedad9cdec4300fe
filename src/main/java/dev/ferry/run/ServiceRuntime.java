package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.DeploymentState.Sleeping;
import dev.ferry.deployment.Transitions;
import dev.ferry.proxy.Routes;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Consumes {@code ferry.run}: starts a loaded deployment's verticle in its runner on a port of
 * {@code run.portRange}, waits until it is ready, routes its service to it, then drains and stops
 * the deployment it replaced (its runner exits). Supervises what runs: a runner that dies is
 * restarted with backoff (see {@link Crashes}). A deployment that got no request for
 * {@code run.idleTimeoutMs} is put to sleep (drained, its runner stopped or its verticle undeployed
 * in a shared runner; {@code sleeping}); the next request for its service wakes it in a runner
 * from the warm pool, on its port, and is answered. Also answers {@code ferry.delete}. The newest
 * deployment of a service always wins: one that finishes after a newer one is serving is stopped.
 * Everything here runs on this verticle's context: starting ({@link Starts}), sleeping and waking
 * ({@link Sleeps}), runners' events ({@link RunnerEvents}), adoption after a restart
 * ({@link Adoption}) and crashes ({@link Crashes}) each have a class; this one holds what runs and
 * stops it.
 */
public final class ServiceRuntime extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);
  /** Services listen here; only the proxy reaches them. */
  public static final String SERVICE_HOST = "127.0.0.1";
  /** How much longer than {@code run.startTimeoutMs} the control plane waits for a runner's own answer. */
  static final long CHANNEL_SLACK_MS = 2_000;
  /** How long the proxy holds requests for a service being restored after a restart before answering 503. */
  public static final long RESTORE_EXPECTED_MS = 120_000;
  /** Why a deployment was put to sleep right after a restart rather than started again. */
  static final String RESTORED_ASLEEP = "Its runner did not outlive the platform's restart: asleep until its first request";

  private final Transitions transitions;
  private final DeploymentLog deploymentLog;
  private final Routes routes;
  private final RunConfig config;
  private final Retention retention;
  private final LiveStatus live;
  private final Runners runners;
  private final PortRange ports;
  private final Resources resources;
  private final Map<String, Running> running = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Instant> deletedAt = new HashMap<>();
  private Readiness readiness;
  private io.vertx.core.Context context;
  private Crashes crashes;
  private RunnerMeters meters;
  private Starts starts;
  private Sleeps sleeps;
  private RunnerEvents events;
  private Adoption adoption;

  public ServiceRuntime(Transitions transitions, DeploymentLog deploymentLog, Routes routes, RunConfig config, Retention retention,
                        LiveStatus live, Runners runners, Resources resources) {
    this.resources = resources;
    this.transitions = transitions;
    this.deploymentLog = deploymentLog;
    this.routes = routes;
    this.config = config;
    this.retention = retention;
    this.live = live;
    this.runners = runners;
    this.ports = new PortRange(config.ports()[0], config.ports()[1]);
  }

  @Override
  public Future<?> start() {
    context = vertx.getOrCreateContext();
    ports.checkAgainstEphemeral();
    readiness = new Readiness(vertx, config.startTimeoutMs());
    crashes = new Crashes(this);
    meters = new RunnerMeters(dev.ferry.Meters.registry(vertx), this);
    starts = new Starts(this);
    sleeps = new Sleeps(this);
    events = new RunnerEvents(this);
    adoption = new Adoption(this);
    if (config.idleTimeoutMs() > 0) {
      long every = Math.max(50, Math.min(30_000, config.idleTimeoutMs() / 4));
      vertx.setPeriodic(every, every, t -> sleeps.sleepIdle());
    }
    return runners.start().compose(x -> Future.all(
        vertx.eventBus().<Deployment>consumer(Addresses.RUN, starts::onLoaded).completion(),
        vertx.eventBus().<String>consumer(Addresses.DELETE, this::onDelete).completion()));
  }

  @Override
  public Future<?> stop() {
    return runners.close(config.drainTimeoutMs()).eventually(readiness::close);
  }

  /** The services of the ledger are restored (or there were none): the warm pool may fill now. */
  public void restored() {
    runners.startPool();
  }

  /** How many deployments have a runner now (starting or serving; not asleep). */
  public int runningCount() {
    int n = 0;
    for (Running r : running.values()) {
      if (!r.asleep) n++;
    }
    return n;
  }

  /** How many deployments sleep now. */
  public int sleepingCount() {
    return running.size() - runningCount();
  }

  // ---- stopping --------------------------------------------------------------------------------

  /** Completes when {@code b} has no request in flight, or after the drain timeout. */
  Future<Void> drain(Routes.Backend b) {
    Promise<Void> p = Promise.promise();
    long deadline = System.currentTimeMillis() + config.drainTimeoutMs();
    // one grace period first, for requests that picked the old backend just before the swap
    vertx.setTimer(20, t -> checkDrained(b, deadline, p));
    return p.future();
  }

  private void checkDrained(Routes.Backend b, long deadline, Promise<Void> p) {
    if (b.inFlight() <= 0) {
      p.complete();
    } else if (System.currentTimeMillis() >= deadline) {
      log.warn("Deployment {} still had {} requests in flight after {} ms; stopping it", b.deploymentId(), b.inFlight(),
          config.drainTimeoutMs());
      p.complete();
    } else {
      vertx.setTimer(10, t -> checkDrained(b, deadline, p));
    }
  }

  /**
   * Stops {@code r} for good: in its runner if it has one (bounded by the drain timeout), lets the
   * runner go, and publishes it {@code stopped} (superseded) or {@code deleted}.
   */
  Future<Void> stop(Running r, boolean deleted) {
    r.stopping = true;
    routes.remove(r.deployment.service(), r.deployment.id());
    Runner runner = r.runner;
    return (runner == null ? Future.succeededFuture(new JsonArray()) : stopIn(r, runner))
        .onSuccess(leaked -> {
          running.remove(r.deployment.id());
          ports.release(r.port);
          live.ended(r.deployment.id());
          // a runner of its own exits, and the threads with it
          if (!leaked.isEmpty() && runner.shared) reportLeaks(r, leaked);
          DeploymentState s = r.deployment.state();
          if (s instanceof Deployed d) transitions.publish(r.deployment, deleted ? d.deleted() : d.stopped());
          else if (s instanceof Sleeping z) transitions.publish(r.deployment, deleted ? z.deleted() : z.stopped());
        })
        .mapEmpty();
  }

  /** Stops {@code r}'s verticle in {@code runner} and lets the runner go; completes with the threads it left running. */
  Future<JsonArray> stopIn(Running r, Runner runner) {
    long bound = config.drainTimeoutMs();
    return runner.request("stop", new JsonObject().put("deployment", r.deployment.id()).put("timeoutMs", bound), bound + CHANNEL_SLACK_MS)
        .map(reply -> reply.getJsonArray("leaks", new JsonArray()))
        .otherwise(e -> {
          log.warn("Stopping {} {} in {} failed or did not finish within {} ms (is a handler blocking its thread?): {}",
              r.deployment.service(), r.deployment.id(), runner, bound, e.getMessage());
          return new JsonArray();
        })
        .compose(leaked -> runners.release(runner, bound).transform(x -> Future.succeededFuture(leaked)));
  }

  private void reportLeaks(Running r, JsonArray threads) {
    String message = "Left " + threads.size() + " thread(s) running after it stopped, still running " + 1_000
        + " ms after an interrupt: " + threads + "; they keep its classloader and everything it loaded in memory until they end";
    log.warn("{} {}: {}", r.deployment.service(), r.deployment.id(), message);
    deploymentLog.warn(r.deployment.id(), "stop", message);
    live.leaked(r.deployment.service(), r.deployment.id(), r.runner.id, threads.stream().map(String::valueOf).toList());
  }

  private void onDelete(Message<String> msg) {
    String service = msg.body();
    deletedAt.put(service, Instant.now());
    List<Future<Void>> stops = new ArrayList<>();
    for (Running r : List.copyOf(running.values())) {
      if (r.deployment.service().equals(service) && !r.stopping) stops.add(stop(r, true));
    }
    routes.forget(service);
    Future.join(stops)
        .transform(x -> vertx.executeBlocking(() -> {
          retention.deleteAll(service);
          return null;
        }, false))
        .onComplete(x -> {
          if (x.failed()) log.warn("Could not delete the files of {}: {}", service, x.cause().toString());
          transitions.serviceDeleted(service);
          msg.reply(stops.size());
        });
  }

  // ---- for Crashes and the meters --------------------------------------------------------------

  public Runners runners() { return runners; }
  Resources resources() { return resources; }
  Routes routes() { return routes; }
  RunConfig settings() { return config; }
  io.vertx.core.Vertx vertx() { return vertx; }
  Transitions transitions() { return transitions; }
  DeploymentLog deploymentLog() { return deploymentLog; }
  Map<String, Running> running() { return running; }
  RunnerMeters meters() { return meters; }
  Retention retention() { return retention; }
  PortRange ports() { return ports; }
  Readiness readiness() { return readiness; }
  io.vertx.core.Context context() { return context; }
  Crashes crashes() { return crashes; }
  Map<String, Instant> deletedAt() { return deletedAt; }
  Starts starts() { return starts; }
  Sleeps sleeps() { return sleeps; }
  RunnerEvents events() { return events; }
  Adoption adoption() { return adoption; }

  /** See {@link Adoption#adopt}. */
  Future<List<DeploymentRow>> adopt(List<DeploymentRow> currents) {
    return adoption.adopt(currents);
  }

  /** See {@link Adoption#rememberCrashes}. */
  void rememberCrashes(String id, List<Instant> times, List<String> causes) {
    adoption.rememberCrashes(id, times, causes);
  }

  /** See {@link Starts#relaunch}. */
  Future<Void> relaunch(Running r) {
    return starts.relaunch(r);
  }

  void forget(Running r) {
    running.remove(r.deployment.id());
    ports.release(r.port);
    live.ended(r.deployment.id());
  }

  LiveStatus live() { return live; }

  /** The runner that runs deployment {@code id} now, if any (for tests and the bench). */
  public java.util.Optional<Runner> runnerOf(String id) {
    Running r = running.get(id);
    return r == null || r.runner == null ? java.util.Optional.empty() : java.util.Optional.of(r.runner);
  }
}
