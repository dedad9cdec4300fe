package dev.ferry.run;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.deployment.DeploymentState.Deployed;
import dev.ferry.deployment.DeploymentState.Loaded;
import dev.ferry.deployment.Transitions;
import dev.ferry.load.Loader;
import dev.ferry.proxy.Routes;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.impl.VertxThread;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Consumes {@code ferry.run}: deploys a loaded service's verticle on a free loopback port, waits
 * until it answers, routes its service to it, then drains and undeploys the deployment it
 * replaced. Also answers {@code ferry.delete}. The newest deployment of a service always wins: one
 * that finishes after a newer one is already serving is stopped at once.
 */
public final class ServiceRuntime extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ServiceRuntime.class);
  /** Services listen here; only the proxy reaches them. */
  public static final String SERVICE_HOST = "127.0.0.1";
  /** How long a service's thread has to end after its interrupt before it is reported as a leak. */
  static final long LEAK_GRACE_MS = 1_000;

  private final Transitions transitions;
  private final DeploymentLog deploymentLog;
  private final Routes routes;
  private final long startTimeoutMs;
  private final long drainTimeoutMs;
  private final Retention retention;
  private final boolean workerThreading;
  private final Leaks leaks;
  private final Map<String, Running> running = new ConcurrentHashMap<>();
  private final Map<String, Instant> deletedAt = new ConcurrentHashMap<>();
  private HttpClient probe;

  /** A deployment that is running: what is needed to stop it and let its classloader go. */
  private record Running(Deployment deployment, Deployed state, ClassLoader loader) {
  }

  public ServiceRuntime(Transitions transitions, DeploymentLog deploymentLog, Routes routes, long startTimeoutMs, long drainTimeoutMs,
                        Retention retention, boolean workerThreading, Leaks leaks) {
    this.transitions = transitions;
    this.workerThreading = workerThreading;
    this.leaks = leaks;
    this.retention = retention;
    this.deploymentLog = deploymentLog;
    this.routes = routes;
    this.startTimeoutMs = startTimeoutMs;
    this.drainTimeoutMs = drainTimeoutMs;
  }

  @Override
  public Future<?> start() {
    probe = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setConnectTimeout(1000));
    return Future.all(
        vertx.eventBus().<Deployment>consumer(Addresses.RUN, this::onLoaded).completion(),
        vertx.eventBus().<String>consumer(Addresses.DELETE, this::onDelete).completion());
  }

  @Override
  public Future<?> stop() {
    // services are child deployments of this verticle: Vert.x has undeployed them already
    running.values().forEach(r -> Loader.close(r.loader()));
    running.clear();
    return probe.close();
  }

  /** How many deployments are running now. */
  public int runningCount() {
    return running.size();
  }

  private void onLoaded(Message<Deployment> msg) {
    Deployment d = msg.body();
    if (!(d.state() instanceof Loaded loaded)) {
      log.error("Runtime got {} in state {}", d.id(), d.state().name());
      return;
    }
    Instant deleted = deletedAt.get(d.service());
    if (deleted != null && deleted.isAfter(d.requestedAt())) {
      Loader.close(loaded.loader());
      transitions.publish(d, loaded.failed("deploy", "The service was deleted while this deployment was in progress"));
      return;
    }
    int port;
    try {
      port = freePort();
    } catch (IOException e) {
      Loader.close(loaded.loader());
      transitions.publish(d, loaded.failed("deploy", "No free port: " + e.getMessage()));
      return;
    }
    JsonObject config = loaded.resources().copy()
        .put("http.port", port).put("http.host", SERVICE_HOST)
        .put("ferry.service", d.service()).put("ferry.deployment", d.id());
    DeploymentOptions options = new DeploymentOptions()
        .setConfig(config)
        .setClassLoader(loaded.loader())
        // its own worker pool, closed on undeploy, so no shared worker thread is born holding its loader
        .setWorkerPoolName("ferry-" + d.service() + "-" + d.id())
        .setWorkerPoolSize(4)
        // worker: a handler that blocks holds up only this service, not the event loops others share
        .setThreadingModel(workerThreading ? ThreadingModel.WORKER : ThreadingModel.EVENT_LOOP);
    deploymentLog.info(d.id(), "deploy", "Deploying " + loaded.verticleClass() + " on port " + port);
    AtomicBoolean abandoned = new AtomicBoolean();
    Future<String> deploying = vertx.deployVerticle(loaded.verticleClass(), options);
    // a start that finishes after we gave up on it is undone
    deploying.onSuccess(vid -> {
      if (abandoned.get()) vertx.undeploy(vid);
    });
    deploying
        .timeout(startTimeoutMs, TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(new StartFailure(startFailure(loaded, e))))
        .compose(vid -> awaitReady(port, loaded.artifact().readinessPath(), System.currentTimeMillis() + startTimeoutMs)
            .recover(e -> vertx.undeploy(vid).transform(x -> Future.failedFuture(e)))
            .map(vid))
        .onSuccess(vid -> activate(d, loaded, port, vid))
        .onFailure(e -> {
          abandoned.set(true);
          Loader.close(loaded.loader());
          log.warn("Deployment {} of {} failed to start: {}", d.id(), d.service(), e.getMessage());
          deploymentLog.error(d.id(), "deploy", e.getMessage());
          transitions.publish(d, loaded.failed("deploy", e.getMessage()));
        });
  }

  private static final class StartFailure extends RuntimeException {
    StartFailure(String message) {
      super(message, null, false, false);
    }
  }

  private String startFailure(Loaded loaded, Throwable e) {
    if (e instanceof java.util.concurrent.TimeoutException || e instanceof io.vertx.core.impl.NoStackTraceTimeoutException) {
      return "The verticle " + loaded.verticleClass() + " did not finish starting within " + startTimeoutMs + " ms";
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String what = root == e ? e.toString() : e + " (caused by " + root + ")";
    return "The verticle " + loaded.verticleClass() + " failed to start: " + what;
  }

  /**
   * Succeeds once the service is ready: on the default path {@code /} any HTTP answer counts; on a
   * path the service names ({@code ferry.readiness.path}) only a 2xx or 3xx answer. Retries until
   * {@code deadline}.
   */
  private Future<Void> awaitReady(int port, String path, long deadline) {
    Promise<Void> p = Promise.promise();
    tryProbe(port, path, deadline, p);
    return p.future();
  }

  private void tryProbe(int port, String path, long deadline, Promise<Void> p) {
    boolean anyAnswer = Artifact.DEFAULT_READINESS_PATH.equals(path);
    probe.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(SERVICE_HOST).setPort(port).setURI(path)
            .setIdleTimeout(Math.max(1, deadline - System.currentTimeMillis())))
        .compose(req -> req.send().compose(resp -> resp.end().map(resp.statusCode())))
        .compose(status -> anyAnswer || (status >= 200 && status < 400) ? Future.succeededFuture()
            : Future.failedFuture("GET " + path + " answered " + status))
        .onSuccess(v -> p.complete())
        .onFailure(e -> {
          if (System.currentTimeMillis() + 20 >= deadline) {
            p.fail(new StartFailure(anyAnswer
                ? "The service started but did not answer HTTP on its http.port " + port
                  + " (does it listen on config().getInteger(\"http.port\")?): " + e.getMessage()
                : "The service did not become ready within " + startTimeoutMs + " ms: " + e.getMessage()));
          } else {
            vertx.setTimer(20, t -> tryProbe(port, path, deadline, p));
          }
        });
  }

  /** Routes the service to the new deployment unless a newer one is already serving. */
  private void activate(Deployment d, Loaded loaded, int port, String vid) {
    Deployed deployed = loaded.deployed(port, vid);
    deploymentLog.info(d.id(), "ready", "Answered HTTP on port " + port);
    Deployment now = d.to(deployed);
    Running r = new Running(now, deployed, loaded.loader());
    running.put(d.id(), r);
    Routes.Backend mine = new Routes.Backend(d.id(), port);
    Routes.Backend[] replaced = {null};
    boolean[] won = {false};
    routes.compute(d.service(), current -> {
      if (current == null || askedBefore(current.deploymentId(), now)) {
        replaced[0] = current;
        won[0] = true;
        return mine;
      }
      return current;
    });
    // "deployed" is published only once routed, so whoever sees it reaches this version
    if (!won[0]) {
      transitions.publish(now);
      log.info("{} {} finished after a newer deployment; stopping it", d.service(), d.id());
      undeploy(r, Deployed::stopped);
      return;
    }
    log.info("{} {} is deployed on port {}", d.service(), d.id(), port);
    deploymentLog.info(d.id(), "swap", replaced[0] == null ? "Taking traffic" : "Taking traffic from " + replaced[0].deploymentId());
    // the log's swap line comes before the state that ends a build watcher's stream
    transitions.publish(now);
    Running old = replaced[0] == null ? null : running.get(replaced[0].deploymentId());
    Future<Void> swapped = old == null ? Future.succeededFuture()
        : drain(replaced[0]).compose(x -> undeploy(old, Deployed::stopped));
    swapped.onComplete(x -> keepLatestArtifacts(d.service()));
  }

  /** True if deployment {@code id} (running) was asked for before {@code d}: the later request wins. */
  private boolean askedBefore(String id, Deployment d) {
    Running r = running.get(id);
    if (r == null) return true;
    int c = r.deployment().requestedAt().compareTo(d.requestedAt());
    return c < 0 || (c == 0 && id.compareTo(d.id()) < 0);
  }

  private void keepLatestArtifacts(String service) {
    Set<String> live = new HashSet<>();
    running.values().forEach(r -> {
      if (r.deployment().service().equals(service)) live.add(r.deployment().id());
    });
    vertx.executeBlocking(() -> retention.keepLatest(service, live), false)
        .onFailure(e -> log.warn("Retention for {} failed: {}", service, e.toString()));
  }

  /** Completes when {@code b} has no request in flight, or after the drain timeout. */
  private Future<Void> drain(Routes.Backend b) {
    Promise<Void> p = Promise.promise();
    long deadline = System.currentTimeMillis() + drainTimeoutMs;
    // one grace period first, for requests that picked the old backend just before the swap
    vertx.setTimer(20, t -> checkDrained(b, deadline, p));
    return p.future();
  }

  private void checkDrained(Routes.Backend b, long deadline, Promise<Void> p) {
    if (b.inFlight() <= 0) {
      p.complete();
    } else if (System.currentTimeMillis() >= deadline) {
      log.warn("Deployment {} still had {} requests in flight after {} ms; stopping it", b.deploymentId(), b.inFlight(), drainTimeoutMs);
      p.complete();
    } else {
      vertx.setTimer(10, t -> checkDrained(b, deadline, p));
    }
  }

  /** Undeploys {@code r}, closes its loader and publishes {@code next}. */
  private Future<Void> undeploy(Running r, Function<Deployed, DeploymentState> next) {
    routes.remove(r.deployment().service(), r.deployment().id());
    // a service whose thread is stuck in a handler cannot run its stop: it is abandoned after the drain timeout
    return vertx.undeploy(r.state().vertxDeploymentId())
        .timeout(drainTimeoutMs, TimeUnit.MILLISECONDS)
        .onFailure(e -> log.warn("Undeploy of {} {} failed or did not finish within {} ms (is a handler blocking its thread?): {}",
            r.deployment().service(), r.deployment().id(), drainTimeoutMs, e.toString()))
        .eventually(() -> {
          running.remove(r.deployment().id());
          Loader.close(r.loader());
          transitions.publish(r.deployment(), next.apply(r.state()));
          stopThreads(r);
          return Future.succeededFuture();
        })
        .mapEmpty();
  }

  /**
   * Threads the service started itself outlive its undeploy (Vert.x cancels its timers, not its
   * threads) and keep its classloader alive: each is interrupted once, and those still running a
   * moment later are reported in the platform log, the deployment's log and its status.
   */
  private void stopThreads(Running r) {
    List<Thread> started = threadsOf(r.loader());
    if (started.isEmpty()) return;
    started.forEach(Thread::interrupt);
    String id = r.deployment().id(), service = r.deployment().service();
    vertx.setTimer(LEAK_GRACE_MS, t -> {
      List<Thread> alive = started.stream().filter(Thread::isAlive).toList();
      if (alive.isEmpty()) {
        log.info("{} {}: {} thread(s) it started stopped when interrupted", service, id, started.size());
        return;
      }
      String message = "Left " + alive.size() + " thread(s) running after it stopped, still running " + LEAK_GRACE_MS
          + " ms after an interrupt: " + alive.stream().map(Thread::getName).toList()
          + "; they keep its classloader and everything it loaded in memory until they end";
      log.warn("{} {}: {}", service, id, message);
      deploymentLog.warn(id, "stop", message);
      leaks.report(service, id, alive);
    });
  }

  /** Live threads not made by Vert.x that belong to {@code loader}: their class or context loader. */
  static List<Thread> threadsOf(ClassLoader loader) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !(t instanceof VertxThread)
            && (t.getContextClassLoader() == loader || t.getClass().getClassLoader() == loader))
        .toList();
  }

  private void onDelete(Message<String> msg) {
    String service = msg.body();
    deletedAt.put(service, Instant.now());
    List<Future<Void>> stops = new ArrayList<>();
    for (Running r : List.copyOf(running.values())) {
      if (r.deployment().service().equals(service)) stops.add(undeploy(r, Deployed::deleted));
    }
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

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(SERVICE_HOST))) {
      return s.getLocalPort();
    }
  }
}
