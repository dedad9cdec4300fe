package dev.ferry.run;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.DeploymentState.Loaded;
import dev.ferry.deployment.DeploymentState.Sleeping;
import dev.ferry.deployment.Transitions;
import dev.ferry.proxy.Routes;
import dev.ferry.resources.Resources;
import dev.ferry.settings.RunConfig;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Consumes {@code ferry.run}: starts a loaded deployment's verticle in its runner on a port of
 * {@code run.portRange}, waits until it is ready, routes its service to it, then drains and stops
 * the deployment it replaced (its runner exits). Supervises what runs: a runner that dies is
 * restarted with backoff (see {@link Crashes}). A deployment that got no request for
 * {@code run.idleTimeoutMs} is put to sleep (drained, its runner stopped or its verticle undeployed
 * in a shared runner; {@code sleeping}); the next request for its service wakes it in a runner
 * from the warm pool, on its port, and is answered. Also answers {@code ferry.delete}. The newest
 * deployment of a service always wins: one that finishes after a newer one is serving is stopped.
 * Everything here runs on this verticle's context.
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
  private final Set<String> listening = new HashSet<>();
  /** Crashes of deployments being restored, from before the restart: they count toward the limit. */
  private final Map<String, Prior> priorCrashes = new java.util.concurrent.ConcurrentHashMap<>();
  private Readiness readiness;
  private io.vertx.core.Context context;
  private Crashes crashes;
  private RunnerMeters meters;

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
    if (config.idleTimeoutMs() > 0) {
      long every = Math.max(50, Math.min(30_000, config.idleTimeoutMs() / 4));
      vertx.setPeriodic(every, every, t -> sleepIdle());
    }
    return runners.start().compose(x -> Future.all(
        vertx.eventBus().<Deployment>consumer(Addresses.RUN, this::onLoaded).completion(),
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

  // ---- starting --------------------------------------------------------------------------------

  private void onLoaded(Message<Deployment> msg) {
    Deployment d = msg.body();
    if (!(d.state() instanceof Loaded loaded)) {
      log.error("Runtime got {} in state {}", d.id(), d.state().name());
      return;
    }
    Runner runner = runners.get(loaded.runner());
    Instant deleted = deletedAt.get(d.service());
    String refusal = runner == null ? "Its runner " + loaded.runner() + " is gone"
        : deleted != null && deleted.isAfter(d.requestedAt()) ? "The service was deleted while this deployment was in progress" : null;
    int port = refusal != null ? -1 : takePort();
    if (refusal != null || port < 0) {
      if (runner != null) runners.release(runner, config.drainTimeoutMs());
      transitions.publish(d, loaded.failed("deploy", refusal != null ? refusal : "No free port left in run.portRange " + config.portRange()));
      return;
    }
    Running r = new Running(d, loaded.artifact(), port, runner);
    r.resources = loaded.resources();
    seedCrashes(r);
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
    listen(runner);
    r.runner = runner;
    r.bound = Promise.promise();
    long deadline = System.currentTimeMillis() + config.startTimeoutMs();
    Deployment d = r.deployment;
    JsonObject serviceConfig = r.resources.copy().put("http.port", r.port).put("http.host", SERVICE_HOST)
        .put("ferry.service", d.service()).put("ferry.deployment", d.id());
    JsonObject start = new JsonObject().put("deployment", d.id()).put("config", serviceConfig).put("port", r.port)
        .put("routedRequest", r.artifact.settings().port().isPresent() ? r.artifact.settings().port().getAsInt() : null)
        .put("threading", config.threading());
    return runner.request("start", start, config.startTimeoutMs() + CHANNEL_SLACK_MS)
        .recover(e -> Future.failedFuture(
            // its bind failed first (the runner said so before its start failed): that is the cause
            r.bound.future().failed() && r.bound.future().cause() instanceof Runner.PortTaken taken ? taken
                : new Runner.Refused(e instanceof TimeoutException
                    ? "The verticle of " + d.service() + " did not finish starting within " + config.startTimeoutMs() + " ms"
                    : e.getMessage())))
        .compose(x -> readiness.await(r.bound.future(), r.port, r.artifact.readinessPath(), deadline));
  }

  /** Routes the service to the new deployment unless a newer one is already serving. */
  private void activate(Running r, Loaded loaded) {
    Deployment d = r.deployment;
    Deployed deployed = loaded.deployed(r.port);
    r.deployment = d.to(deployed);
    r.serving = true;
    deploymentLog.info(d.id(), "ready", r.artifact.readinessPath() == null ? "Listening on port " + r.port
        : "GET " + r.artifact.readinessPath() + " answered on port " + r.port);
    Routes.Backend mine = new Routes.Backend(d.id(), r.port);
    Routes.Backend[] replaced = {null};
    boolean[] won = {false};
    routes.compute(d.service(), current -> {
      if (current == null || askedBefore(current.deploymentId(), r.deployment)) {
        replaced[0] = current;
        won[0] = true;
        return mine;
      }
      return current;
    });
    // "deployed" is published only once routed, so whoever sees it reaches this version
    if (!won[0]) {
      transitions.publish(r.deployment);
      log.info("{} {} finished after a newer deployment; stopping it", d.service(), d.id());
      stop(r, false);
      return;
    }
    // a deployment it replaces may be asleep (so not routed): it is stopped too
    for (Running o : List.copyOf(running.values())) {
      if (o != r && o.asleep && !o.stopping && o.deployment.service().equals(d.service())) stop(o, false);
    }
    log.info("{} {} is deployed in {} on port {}", d.service(), d.id(), r.runner, r.port);
    meters.track(d.service());
    deploymentLog.info(d.id(), "swap", replaced[0] == null ? "Taking traffic" : "Taking traffic from " + replaced[0].deploymentId());
    // the log's swap line comes before the state that ends a build watcher's stream
    transitions.publish(r.deployment);
    Running old = replaced[0] == null ? null : running.get(replaced[0].deploymentId());
    Future<Void> swapped = old == null ? Future.succeededFuture()
        : drain(replaced[0]).compose(x -> stop(old, false));
    swapped.onComplete(x -> keepLatestArtifacts(d.service()));
  }

  /** True if deployment {@code id} (running) was asked for before {@code d}: the later request wins. */
  private boolean askedBefore(String id, Deployment d) {
    Running r = running.get(id);
    if (r == null) return true;
    int c = r.deployment.requestedAt().compareTo(d.requestedAt());
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

  // ---- stopping --------------------------------------------------------------------------------

  /** Completes when {@code b} has no request in flight, or after the drain timeout. */
  private Future<Void> drain(Routes.Backend b) {
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
  private Future<JsonArray> stopIn(Running r, Runner runner) {
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

  // ---- sleeping and waking --------------------------------------------------------------------------

  /** How long a request for a sleeping service may wait for it to wake. */
  long wakeMs() {
    return config.startTimeoutMs() + CHANNEL_SLACK_MS;
  }

  /** Puts to sleep every serving deployment whose backend had no request in flight for {@code run.idleTimeoutMs}. */
  private void sleepIdle() {
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
    r.sleeping = drain(b).compose(x -> stopIn(r, runner)).transform(ar -> {
      r.runner = null;
      if (!r.stopping && r.deployment.state() instanceof Deployed deployed) {
        deploymentLog.info(d.id(), "sleep", "No request for " + config.idleTimeoutMs() + " ms (run.idleTimeoutMs): asleep; the next request wakes it");
        r.deployment = transitions.publish(r.deployment, deployed.sleeping());
        RunnerMeters.slept(this, d.service());
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
    asleep.sleeping.compose(x -> relaunch(asleep)).onComplete(ar -> {
      asleep.waking = false;
      if (asleep.stopping) {
        // superseded or deleted meanwhile
        if (asleep.runner != null) runners.release(asleep.runner, config.drainTimeoutMs());
        return;
      }
      asleep.asleep = false;
      if (ar.failed()) {
        asleep.restarting = true;
        crashes.crashed(asleep, "it could not be woken: " + ar.cause().getMessage());
        return;
      }
      asleep.serving = true;
      if (asleep.deployment.state() instanceof Sleeping sleeping) {
        asleep.deployment = transitions.publish(asleep.deployment, sleeping.woken(asleep.runner.id()));
      }
      boolean[] routed = {false};
      routes.compute(service, current -> {
        routed[0] = current == null || current.deploymentId().equals(id);
        return routed[0] ? new Routes.Backend(id, asleep.port) : current;
      });
      long ms = (System.nanoTime() - t0) / 1_000_000;
      if (!routed[0]) {
        log.info("{} {} woke after a newer deployment took over; stopping it", service, id);
        stop(asleep, false);
        return;
      }
      RunnerMeters.woke(this, service, System.nanoTime() - t0);
      deploymentLog.info(id, "wake", "Woken by a request: serving again in " + asleep.runner + " after " + ms + " ms");
      log.info("{} {} woke in {} ms", service, id, ms);
    });
  }

  /** Loads and starts {@code r} again in a runner (a new one, or the shared one), on its port, with its resources provided again. */
  Future<Void> relaunch(Running r) {
    String id = r.deployment.id(), service = r.deployment.service();
    long timeout = config.startTimeoutMs() + CHANNEL_SLACK_MS;
    long t0 = System.nanoTime();
    long[] at = new long[3];
    return runners.acquire(r.artifact.settings()).compose(runner -> {
      r.runner = runner;
      listen(runner);
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

  /** A deployment restored asleep after a restart (it slept, or its runner did not outlive the platform). */
  private void restoreAsleep(JsonObject row, boolean wasSleeping) {
    int port = row.getInteger("port");
    Deployment d = Deployment.fromJson(row, wasSleeping ? new Sleeping(port) : new Deployed(port, "gone"));
    Running r = new Running(d, d.artifact(), port, null);
    r.asleep = true;
    r.sleeping = Future.succeededFuture();
    running.put(d.id(), r);
    ports.hold(port);
    asleep(d.service());
    if (!wasSleeping) {
      r.deployment = transitions.publish(d, ((Deployed) d.state()).sleeping());
      deploymentLog.info(d.id(), "restart", RESTORED_ASLEEP);
    }
  }

  // ---- runners: their events, their end, adoption ------------------------------------------------

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
        if (r.runner == runner) crashes.crashed(r, runner + " " + cause);
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
      case "gone" -> crashes.crashed(r, e.getString("cause", "the service stopped itself"));
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

  /**
   * After a platform restart: for each of {@code currents} (the deployment the ledger says serves
   * each service) whose runner still serves it, routes the service to it without restarting
   * anything. Runners left over that serve none of them are stopped. A deployment that slept stays
   * asleep; with {@code run.idleTimeoutMs} set, one whose runner is gone is put to sleep, to start
   * on its first request. Completes with the rows left, which need starting again now (only when
   * nothing sleeps: {@code run.idleTimeoutMs} 0); until then their services' requests wait.
   */
  Future<List<JsonObject>> adopt(List<JsonObject> currents) {
    if (vertx.getOrCreateContext() != context) {
      Promise<List<JsonObject>> p = Promise.promise();
      context.runOnContext(v -> adopt(currents).onComplete(p));
      return p.future();
    }
    Map<String, JsonObject> byId = new HashMap<>();
    for (JsonObject row : currents) {
      if ("sleeping".equals(row.getString("state"))) {
        restoreAsleep(row, true);
        continue;
      }
      byId.put(row.getString("id"), row);
      routes.expect(row.getString("service"), RESTORE_EXPECTED_MS);
    }
    long t0 = System.nanoTime();
    // a port that accepts has a runner that outlived the platform behind it: routed at once, before the
    // runners are found and asked what they serve (which confirms it, or takes the route back)
    Map<String, Routes.Backend> provisional = new HashMap<>();
    boolean[] adopted = {false};
    for (JsonObject row : byId.values()) {
      String id = row.getString("id"), service = row.getString("service");
      Integer port = row.getInteger("port");
      if (port == null) continue;
      readiness.accepts(port).onSuccess(v -> {
        if (adopted[0] || running.containsKey(id)) return;
        Routes.Backend b = new Routes.Backend(id, port);
        routes.compute(service, current -> current == null ? b : current);
        provisional.put(id, b);
      });
    }
    return runners.adoptable().map(found -> {
      log.debug("Found {} runners to adopt in {} ms", found.size(), (System.nanoTime() - t0) / 1_000_000);
      adopted[0] = true;
      for (Runner runner : found) {
        boolean serves = false;
        for (Object o : runner.hosted) {
          JsonObject h = (JsonObject) o;
          JsonObject row = byId.remove(h.getString("deployment"));
          if (row != null && h.getInteger("port", -1).equals(row.getInteger("port"))) {
            adoptOne(row, runner, row.getInteger("port"));
            serves = true;
          } else if (runner.shared) {
            // a stale service in a shared runner that also serves current ones
            runner.request("stop", new JsonObject().put("deployment", h.getString("deployment")).put("timeoutMs", 1_000), 5_000);
          }
        }
        if (!serves) runner.exit(config.drainTimeoutMs());
      }
      // routed on a port that accepted, but no runner of ours says it serves it there
      for (JsonObject row : byId.values()) {
        if (provisional.containsKey(row.getString("id"))) routes.remove(row.getString("service"), row.getString("id"));
      }
      if (config.idleTimeoutMs() <= 0) return List.copyOf(byId.values());
      byId.values().forEach(row -> restoreAsleep(row, false));
      return List.<JsonObject>of();
    });
  }

  private void adoptOne(JsonObject row, Runner runner, int port) {
    Deployment d = Deployment.fromJson(row, new Deployed(port, runner.id));
    Running r = new Running(d, d.artifact(), port, runner);
    r.serving = true;
    seedCrashes(r);
    running.put(d.id(), r);
    ports.hold(port);
    listen(runner);
    // the route made when its port accepted stays (with the requests it counts in flight)
    routes.compute(d.service(), current -> current != null && current.deploymentId().equals(d.id()) ? current
        : current == null || askedBefore(current.deploymentId(), d) ? new Routes.Backend(d.id(), port) : current);
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

  private void seedCrashes(Running r) {
    Prior p = priorCrashes.remove(r.deployment.id());
    if (p == null) return;
    r.crashTimes.addAll(p.times());
    r.causes.addAll(p.causes());
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

  /** A deployment that has a runner: starting (not yet routed) or serving. Only touched on the runtime's context. */
  static final class Running {
    Deployment deployment;
    final Artifact artifact;
    int port;
    Runner runner;
    boolean stopping;
    boolean serving;
    boolean restarting;
    /** Put to sleep (or being put to sleep): no runner, its port kept, woken by a request. */
    boolean asleep;
    boolean waking;
    /** Completes once it is all the way asleep (its runner gone). */
    Future<Void> sleeping = Future.succeededFuture();
    Promise<Void> bound;
    /** What it declared ({@code ferry.postgres}, {@code ferry.secrets}) for its config; provided again at a restart. */
    JsonObject resources = new JsonObject();
    final java.util.ArrayDeque<Instant> crashTimes = new java.util.ArrayDeque<>();
    final List<String> causes = new ArrayList<>();

    Running(Deployment deployment, Artifact artifact, int port, Runner runner) {
      this.deployment = deployment;
      this.artifact = artifact;
      this.port = port;
      this.runner = runner;
    }
  }
}
