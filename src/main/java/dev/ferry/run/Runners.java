package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.deployment.RunSettings;
import dev.ferry.sandbox.Limits;
import dev.ferry.sandbox.Sandbox;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts, keeps and stops runner processes. A runner is launched with a clean environment (no
 * token, no platform secret), its secret on stdin, its own directory {@code <dataDir>/runners/<id>}
 * (its socket, its JVM's own output, a registry file from which a restarted control plane finds
 * it again) and the runner classpath: the runner's classes, the SDK and the libraries shared with
 * services, nothing else of the platform. {@code run.warmRunners} idle runners wait, warmed up,
 * for the next deploy. Runners start from a class-data-sharing archive of the runner's classes,
 * made once by a training run. Every runner, and the training run, is launched through the
 * {@link Sandbox}: it sees its jars read-only under {@code /ferry}, its services' jars in its
 * {@code lib} dir (staged there when loaded, see {@link Staging}), and runs as an unprivileged user
 * with the limits of {@link Limits}.
 */
public final class Runners {

  private static final Logger log = LoggerFactory.getLogger(Runners.class);
  /** What the runner's JVM itself writes (crash reports, OOM notices): the runner's code never writes here. */
  static final String OUT_LOG = "out.log";

  private final Vertx vertx;
  private final RunConfig config;
  private final Path root;
  private final List<Path> classpath;
  private final Sandbox sandbox;
  private final Map<String, Runner> all = new ConcurrentHashMap<>();
  /** Ids of the runners this control plane launched (never to be adopted as a predecessor's). */
  private final java.util.Set<String> launched = ConcurrentHashMap.newKeySet();
  private final Deque<Runner> warm = new ArrayDeque<>();
  /** How long after a runner is taken from the pool its replacement launches: not at once, not to share the CPU with the deploy. */
  static final long REFILL_DELAY_MS = 250;
  private long refillTimer = -1;
  private Context context;
  private NetClient client;
  private int launching;
  private final RunnerLauncher launcher;
  private Future<Runner> shared;
  private boolean closed;
  private Future<Void> archiveReady = Future.succeededFuture();
  private RunnerArchive archive;
  private boolean poolStarted;
  /** Where the runners' class-data-sharing archive is kept. */
  private final Path cacheDir;

  /**
   * {@code cacheDir}: where the class-data-sharing archive is kept; {@code classpath}: the runner's
   * jars (see SharedClasspath#runnerClasspath); every runner is launched through {@code sandbox}.
   */
  public Runners(Vertx vertx, RunConfig config, Path cacheDir, Path root, List<Path> classpath, Sandbox sandbox) {
    this.vertx = vertx;
    this.cacheDir = cacheDir;
    this.config = config;
    this.root = root.toAbsolutePath();
    this.classpath = List.copyOf(classpath);
    this.sandbox = sandbox;
    this.launcher = new RunnerLauncher(vertx, config, this.root, this.classpath, sandbox, all, launched);
  }

  /**
   * Binds to the caller's context (the run stage's) and makes (or finds) the class-data-sharing
   * archive; the warm pool fills once {@link #startPool} is called.
   */
  Future<Void> start() {
    context = vertx.getOrCreateContext();
    client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(2_000));
    launcher.bind(context, client);
    Promise<Void> prepared = Promise.promise();
    archiveReady = prepared.future();
    return vertx.executeBlocking(() -> {
      Files.createDirectories(root);
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
      return null;
    }).onSuccess(x -> (config.cds() ? (archive = new RunnerArchive(vertx, config, cacheDir, classpath, sandbox)).prepare()
            .map(p -> launcher.archive = p)
        : Future.<Path>succeededFuture()).onComplete(ar -> prepared.complete()))
        .onFailure(prepared::tryFail).mapEmpty();
  }

  /**
   * Starts filling the warm pool (once the archive is ready). Called once the services of a restart
   * are restored, so that new runners do not take the CPU the restored services need first.
   */
  public void startPool() {
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> startPool());
      return;
    }
    if (poolStarted) return;
    poolStarted = true;
    archiveReady.onComplete(ar -> fill());
  }

  // ---- taking and giving back ----------------------------------------------------------------

  /** A runner for a deployment of a service that asks to be run as {@code settings} say. */
  public Future<Runner> acquire(RunSettings settings) {
    if (Vertx.currentContext() != context) {
      Promise<Runner> p = Promise.promise();
      context.runOnContext(v -> acquire(settings).onComplete(p));
      return p.future();
    }
    if (closed) return Future.failedFuture(new Runner.Refused("The platform is shutting down"));
    if (RunSettings.SHARED.equals(settings.isolation().orElse(config.isolation()))) return sharedRunner();
    Limits limits = Limits.runner(config, settings);
    if (limits.equals(Limits.runner(config, RunSettings.DEFAULT))) {
      warm.removeIf(r -> r.ended().isComplete());
      // one that has finished warming up, else the one launched first
      Runner r = warm.stream().filter(x -> x.warm).findFirst().orElse(warm.peek());
      if (r != null) {
        warm.remove(r);
        if (refillTimer < 0) refillTimer = context.owner().setTimer(REFILL_DELAY_MS, t -> {
          refillTimer = -1;
          fill();
        });
        return given(r);
      }
    }
    return launcher.launch(false, limits).compose(this::given);
  }

  /**
   * {@code r}, about to be given a service: first its registry entry loses its pool key, so that no
   * later control plane takes it for an idle warm runner (see {@link #keepWarm}), whatever the
   * service's code does to the runner. A runner whose entry cannot be written is not given. The
   * file is read and written on a worker, not on the event loop.
   */
  private Future<Runner> given(Runner r) {
    return vertx.executeBlocking(() -> {
      RunnerRegistry.leavePool(r.dir);
      return r;
    }, false).recover(e -> {
      r.exit(config.drainTimeoutMs());
      return Future.failedFuture(new IllegalStateException("Could not write the registry entry of runner " + r.id + ": " + e, e));
    });
  }

  /** A process runner is done with: it exits (killed after {@code graceMs}). A shared runner stays. */
  public Future<String> release(Runner r, long graceMs) {
    if (r.shared) return Future.succeededFuture("shared");
    return r.exit(graceMs);
  }

  private Future<Runner> sharedRunner() {
    if (shared == null || shared.failed() || shared.succeeded() && shared.result().ended().isComplete()) {
      shared = launcher.launch(true, Limits.sharedRunner(config));
    }
    return shared;
  }

  /** Whether the warm pool holds {@code run.warmRunners} runners that have finished warming up (benchmarks wait for it). */
  public Future<Boolean> poolWarm() {
    Promise<Boolean> p = Promise.promise();
    context.runOnContext(v -> p.complete(launching == 0 && warm.size() >= config.warmRunners()
        && warm.stream().allMatch(r -> r.warm && !r.ended().isComplete())));
    return p.future();
  }

  /** Tops the warm pool up to {@code run.warmRunners}, once the pool is started. */
  private void fill() {
    if (closed || !poolStarted) return;
    while (warm.size() + launching < config.warmRunners()) {
      launching++;
      launcher.launch(false, Limits.runner(config, RunSettings.DEFAULT)).onComplete(ar -> {
        launching--;
        if (ar.succeeded()) {
          if (closed) ar.result().exit(1_000);
          else warm.add(ar.result());
        } else {
          log.warn("Could not start a warm runner: {}", ar.cause().getMessage());
        }
      });
    }
  }

  /**
   * After a restart: takes {@code r}, a runner the previous control plane left serving nothing, into
   * the warm pool if the pool has room and {@code r} is as this control plane would launch one for
   * it, and was never given a service: its registry entry (which only control planes write) still
   * holds its pool key, and the runner says so too. No tenant's code ever ran in it. Saves a restart
   * two JVM starts and warm-ups (2–3 s of CPU each), and a deploy right after a restart gets a warm
   * runner. Returns whether it did; the caller stops {@code r} if not.
   */
  boolean keepWarm(Runner r) {
    if (closed || r.shared || !r.pristine || warm.size() + launching >= config.warmRunners()
        || !launcher.poolKey(Limits.runner(config, RunSettings.DEFAULT)).equals(r.poolKey)) {
      return false;
    }
    warm.add(r);
    return true;
  }

  public Runner get(String id) {
    return all.get(id);
  }

  /** Every runner alive now (warm, serving or shared). */
  List<Runner> alive() {
    return all.values().stream().filter(r -> !r.ended().isComplete()).toList();
  }

  // ---- adoption after a restart -----------------------------------------------------------------

  /**
   * The runners a previous control plane left serving: each registry entry whose process is alive,
   * whose socket answers its secret, and who says it is that runner. Entries of dead runners are
   * deleted. Each runner found knows the deployments it hosts ({@link Runner#hosted}).
   */
  Future<List<Runner>> adoptable() {
    return vertx.executeBlocking(() -> RunnerRegistry.live(root, launched, sandbox), false).compose(entries -> {
      List<Future<Runner>> found = new ArrayList<>();
      for (JsonObject e : entries) {
        Path dir = Path.of(e.getString("dir"));
        found.add(client.connect(SocketAddress.domainSocketAddress(e.getString("socket")))
            .compose(s -> launcher.hello(s, e.getString("id"), e.getString("secret"), Sandbox.process(e.getLong("jvm"), e.getLong("jvmStart")).orElseThrow(),
                Sandbox.process(e.getLong("pid"), e.getLong("pidStart")).orElseThrow(), e.getBoolean("shared", false),
                e.getInteger("memoryMb", config.memoryMb()), dir))
            .onSuccess(r -> {
              r.poolKey = e.getString("pool");
              Limits limits = RunnerRegistry.limits(e, config);
              Sandbox.process(e.getLong("pid"), e.getLong("pidStart")).ifPresentOrElse(h -> launcher.watch(r, null, limits), () -> r.exited("exited"));
              if (r.shared && shared == null) shared = Future.succeededFuture(r);
            })
            .onFailure(x -> log.warn("Runner {} (pid {}) left by the previous control plane did not answer: {}; killing it",
                e.getString("id"), e.getLong("pid"), x.getMessage())));
      }
      return Future.join(found).transform(x -> {
        List<Runner> out = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
          if (found.get(i).succeeded()) out.add(found.get(i).result());
          else {
            JsonObject e = entries.get(i);
            Sandbox.process(e.getLong("pid"), e.getLong("pidStart")).ifPresent(Sandbox::killTree);
            Sandbox.process(e.getLong("jvm"), e.getLong("jvmStart")).ifPresent(Sandbox::killTree);
          }
        }
        return Future.succeededFuture(out);
      });
    });
  }

  // ---- shutting down ----------------------------------------------------------------------------

  /** Stops every runner: asks each to exit, kills those that have not within {@code graceMs}. */
  Future<Void> close(long graceMs) {
    if (Vertx.currentContext() != context && context != null) {
      Promise<Void> p = Promise.promise();
      context.runOnContext(v -> close(graceMs).onComplete(p));
      return p.future();
    }
    closed = true;
    if (archive != null) archive.cancel(); // a training run under way ends (its blocking task with it) before Vert.x closes
    Future<Void> trained = archiveReady.otherwiseEmpty().timeout(10, TimeUnit.SECONDS).otherwiseEmpty();
    List<Runner> runners = List.copyOf(all.values());
    List<Future<String>> ends = new ArrayList<>();
    for (Runner r : runners) ends.add(r.exit(graceMs));
    warm.clear();
    // a backstop that needs no timer of this (closing) context: whatever still runs a moment later is killed
    java.util.concurrent.CompletableFuture.delayedExecutor(graceMs + 1_000, TimeUnit.MILLISECONDS).execute(() -> runners.forEach(Runner::kill));
    // runners still starting (the warm pool's, a deploy's) end too, once started: nothing of them outlives the close
    Future<Void> late = launcher.close().compose(x -> Future.join(all.values().stream().filter(r -> !runners.contains(r))
        .map(r -> r.exit(graceMs)).toList()).<Void>mapEmpty());
    Future<Void> gone = Future.join(Future.join(ends), late).transform(x -> trained);
    return gone.timeout(graceMs + 5_000, TimeUnit.MILLISECONDS)
        .onFailure(e -> log.warn("Runners did not all end within {} ms of being asked to: {}", graceMs + 5_000, e.toString()))
        .transform(x -> client == null ? Future.<Void>succeededFuture() : client.close());
  }
}
