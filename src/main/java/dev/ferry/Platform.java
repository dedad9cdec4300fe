package dev.ferry;

import dev.ferry.api.Api;
import dev.ferry.api.ApiToken;
import dev.ferry.builder.BuildQueue;
import dev.ferry.builder.Builder;
import dev.ferry.builder.DependencyResolver;
import dev.ferry.builder.MavenSetup;
import dev.ferry.builder.SafeExtractor;
import dev.ferry.builder.ServiceCompiler;
import dev.ferry.builder.SharedClasspath;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.builder.BuildCache;
import dev.ferry.deployment.SqliteLedger;
import dev.ferry.deployment.Recorder;
import dev.ferry.deployment.Transitions;
import dev.ferry.load.Loader;
import dev.ferry.proxy.Proxy;
import dev.ferry.proxy.Routes;
import dev.ferry.resources.Resources;
import dev.ferry.run.Reactivator;
import dev.ferry.run.Restorer;
import dev.ferry.run.Retention;
import dev.ferry.run.Runners;
import dev.ferry.run.LiveStatus;
import dev.ferry.run.ServiceRuntime;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * One running Ferry's control plane: the pipeline's verticles on one Vert.x of its own (recorder,
 * builder, runtime and its runners, loader, proxy, API), undeployed in reverse; service code runs
 * only in runner processes. Once up, it adopts the runners a previous control plane left serving
 * and activates again every other service the ledger says was deployed (see {@link Restorer#restore}).
 */
public final class Platform {

  private static final Logger log = LoggerFactory.getLogger(Platform.class);

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final Config config;
  private final DataDir dataDir;
  private final Routes routes = Routes.create();
  private final LiveStatus live = new LiveStatus();
  private BuildQueue buildQueue;
  private final Deque<String> deployed = new ArrayDeque<>();
  private Recorder recorder;
  private ServiceRuntime runtime;
  private Proxy proxy;
  private Api api;
  private SqliteLedger ledger;
  private ApiToken token;
  private Resources resources;
  private AutoCloseable jvmMeters;
  private dev.ferry.sandbox.Sandbox sandbox;
  private Future<Integer> restored = Future.succeededFuture(0);

  private Platform(Vertx vertx, boolean ownsVertx, Config config) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.config = config;
    this.dataDir = new DataDir(config.dataDir());
  }

  /** Starts a platform on a Vert.x of its own, closed with it. */
  public static Future<Platform> start(Config config) {
    Vertx vertx = newVertx();
    return start(vertx, true, config).onFailure(e -> vertx.close());
  }

  /** A Vert.x that reports its metrics, and the JVM's, to a Prometheus registry of its own. */
  public static Vertx newVertx() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setEnabled(true)
        // the JVM's meters are bound once the proxy listens (Meters.bindJvm): 0.1 s less before it does on a restart
        // per-request HTTP and TCP meters on every server and client cost the proxy a third of its
        // throughput (scripts/bench); Ferry's own ferry_proxy_* meters count requests per service
        .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
        .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.NET_SERVER)
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT)
        // each Vert.x its own registry: several platforms may share a JVM (tests)
        .setRegistryName("ferry-" + System.identityHashCode(registry));
    return Vertx.builder()
        // the native epoll transport where it is (Linux x86_64): fewer copies and system calls per proxied request
        .with(new VertxOptions().setMetricsOptions(metrics).setPreferNativeTransport(true))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  /** Starts a platform on {@code vertx}, which the caller keeps. */
  public static Future<Platform> start(Vertx vertx, Config config) {
    return start(vertx, false, config);
  }

  private static Future<Platform> start(Vertx vertx, boolean owns, Config config) {
    Platform p = new Platform(vertx, owns, config);
    return p.deployAll().map(p).onSuccess(x -> log.info("Ferry is up: API http://{}:{}  proxy http://<service>.{}:{}  data dir {}",
        config.host(), p.apiPort(), config.domain(), p.proxyPort(), p.dataDir.root()));
  }

  private Future<Void> deployAll() {
    Transitions.registerCodec(vertx);
    Transitions transitions = new Transitions(vertx, this::urlOf);
    DeploymentLog deploymentLog = new DeploymentLog(vertx);
    java.util.concurrent.atomic.AtomicReference<List<Path>> runnerClasspath = new java.util.concurrent.atomic.AtomicReference<>();
    return vertx.executeBlocking(() -> {
          dataDir.create();
          ledger = SqliteLedger.open(dataDir.ledger());
          // services the ledger says serve are expected from the first request on: the proxy holds, never 404s them
          var live = ledger.reader().inState(dev.ferry.deployment.StateName.LIVE);
          for (var row : live) routes.expect(row.service(), ServiceRuntime.RESTORE_EXPECTED_MS);
          // runners that outlived the last platform serve from the proxy's first request on, while the rest starts
          Restorer.routeLive(routes, live);
          return live;
        })
        .compose(live -> deployProxies())
        .compose(x -> vertx.executeBlocking(() -> {
          jvmMeters = Meters.bindJvm(Meters.registry(vertx));
          // tenant code runs only where the OS confines it: refuse to start where that cannot be
          sandbox = dev.ferry.sandbox.Sandbox.open(config.run(), dataDir.root());
          token = ApiToken.resolve(config.token(), dataDir.token());
          buildQueue = new BuildQueue(config.build().queueCapacity());
          runnerClasspath.set(SharedClasspath.runnerClasspath(config.cacheDir()));
          resources = Resources.open(config.resources(), dataDir);
          // builds that run annotation processors compile in a sandboxed process, from the runner's jar
          return new ServiceCompiler(SharedClasspath.create(dataDir.sdk())).isolating(sandbox, runnerClasspath.get().get(0), config.build(),
              config.extract(), dev.ferry.sandbox.Limits.build(config.build(), config.run()));
        }))
        .compose(compiler -> {
          recorder = new Recorder(ledger.writer(), ledger.reader());
          Runners runners = new Runners(vertx, config.run(), config.cacheDir(), dataDir.runners(), runnerClasspath.get(), sandbox);
          runtime = new ServiceRuntime(transitions, deploymentLog, routes, config.run(), new Retention(dataDir, config.artifacts().keep()),
              live, runners, resources);
          api = new Api(config, dataDir, ledger.reader(), transitions, token, live, resources, info());
          return deploy(recorder)
              .compose(x -> deploy(new Builder(dataDir, transitions, deploymentLog, new SafeExtractor(config.extract()), compiler,
                  resolver(), config.build().concurrency(), buildQueue)
                  .withCache(new BuildCache(ledger.reader()))))
              .compose(x -> deploy(runtime))
              .compose(x -> deploy(new Loader(transitions, deploymentLog, new dev.ferry.load.BytecodePolicy(config.load().forbiddenCalls()),
                  runners, resources, config.run().startTimeoutMs())))
              .compose(x -> deploy(new Reactivator(ledger.reader(), transitions, dataDir)))
              // the services of the ledger are restored while the API starts
              .onSuccess(x -> restored = new Restorer(vertx, ledger.reader(), transitions, dataDir).restore(runtime)
                  .onFailure(e -> log.error("Could not restore the services of the ledger", e))
                  // new warm runners would take the CPU the restored services need first
                  .onComplete(r -> runtime.restored()))
              .compose(x -> deploy(api));
        })
        // a platform that failed to start closes what it opened; its Vert.x is closed by whoever made it (Vert.x
        // closed here would never run the continuation that reports the failure)
        .recover(e -> close(false).transform(x -> Future.failedFuture(e)))
        .mapEmpty();
  }

  /**
   * What {@code GET /api/v1/info} tells about confinement: the sandbox and each limit with what
   * enforces it (and {@code unenforced}: what this host cannot, with why), the limits a runner and
   * a build get by default, and the servers' connection rules.
   */
  private io.vertx.core.json.JsonObject info() {
    var settings = dev.ferry.deployment.RunSettings.DEFAULT;
    return new io.vertx.core.json.JsonObject()
        .put("sandbox", sandbox.report())
        .put("limits", new io.vertx.core.json.JsonObject()
            .put("runner", dev.ferry.sandbox.Limits.runner(config.run(), settings).toJson())
            .put("sharedRunner", dev.ferry.sandbox.Limits.sharedRunner(config.run()).toJson())
            .put("build", dev.ferry.sandbox.Limits.build(config.build(), config.run()).toJson()
                .put("timeoutMs", config.build().timeoutMs())))
        .put("server", new io.vertx.core.json.JsonObject().put("headerTimeoutMs", config.server().headerTimeoutMs())
            .put("idleTimeoutMs", config.server().idleTimeoutMs()).put("maxConnectionsPerClient", config.server().maxConnectionsPerClient())
            .put("uploadStallTimeoutMs", config.upload().stallTimeoutMs()));
  }

  /** The proxy, on {@code proxy.instances} event loops sharing the proxy port. */
  private Future<String> deployProxies() {
    proxy = new Proxy(routes, config.domain(), config.host(), config.proxy(), config.run().startTimeoutMs(),
        dev.ferry.ConnectionGuard.of("proxy", config.server()));
    return deploy(proxy);
  }

  private DependencyResolver resolver() {
    return new DependencyResolver(MavenSetup.from(config.maven(), dataDir.root(), System.getenv()), dataDir.resolutions());
  }

  private Future<String> deploy(Deployable verticle) {
    return vertx.deployVerticle(verticle, new DeploymentOptions().setThreadingModel(ThreadingModel.EVENT_LOOP))
        .onSuccess(deployed::push);
  }

  /** Stops every service and the platform; closes Vert.x if the platform made it. */
  public Future<Void> close() {
    return close(ownsVertx);
  }

  private Future<Void> close(boolean closeVertx) {
    Future<Void> f = Future.succeededFuture();
    while (!deployed.isEmpty()) {
      String id = deployed.pop();
      f = f.compose(x -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
    }
    f = f.compose(x -> ledger == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      ledger.close();
      return null;
    }));
    f = f.compose(x -> jvmMeters == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      jvmMeters.close();
      return null;
    }));
    // services are stopped: their databases' server may go
    f = f.compose(x -> resources == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      resources.close();
      return null;
    }, false));
    return closeVertx ? f.compose(x -> vertx.close()) : f;
  }

  /** A service's public URL through the proxy. */
  public String urlOf(String service) {
    int port = proxy.actualPort();
    return "http://" + service + "." + config.domain() + (port == 80 ? "" : ":" + port) + "/";
  }

  public Vertx vertx() { return vertx; }
  public Config config() { return config; }
  public DataDir dataDir() { return dataDir; }
  public Routes routes() { return routes; }
  public LedgerReader ledger() { return ledger == null ? null : ledger.reader(); }
  /** What confines services' code and builds' annotation processors on this host. */
  public dev.ferry.sandbox.Sandbox sandbox() { return sandbox; }
  /** Completes once the services of the ledger were sent to be activated again (not yet answering), with their count. */
  public Future<Integer> restored() { return restored; }
  public ServiceRuntime runtime() { return runtime; }
  public int apiPort() { return api.actualPort(); }
  public int proxyPort() { return proxy.actualPort(); }
}
