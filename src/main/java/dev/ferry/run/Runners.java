package dev.ferry.run;

import dev.ferry.deployment.RunSettings;
import dev.ferry.sandbox.Limits;
import dev.ferry.sandbox.Sandbox;
import dev.ferry.settings.RunConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
  private static final String REGISTRY = "runner.json";
  private static final String MAIN = "dev.ferry.runner.RunnerMain";
  /** How long a new runner may take to open its socket. */
  private static final long LAUNCH_TIMEOUT_MS = 30_000;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** A sandboxed runner's socket, in its private /tmp; the control plane reaches it through /proc/<its pid>/root. */
  private static final String SANDBOXED_SOCKET = "/tmp/ferry-runner.sock";

  private final Vertx vertx;
  private final RunConfig config;
  private final Path cacheDir;
  private final Path root;
  private final List<Path> classpath;
  private final Sandbox sandbox;
  private final Map<String, Runner> all = new ConcurrentHashMap<>();
  /** Ids of the runners this control plane launched (never to be adopted as a predecessor's). */
  private final java.util.Set<String> launched = ConcurrentHashMap.newKeySet();
  private final Deque<Runner> warm = new ArrayDeque<>();
  private Context context;
  private NetClient client;
  private int launching;
  private Path archive;
  private Future<Runner> shared;
  private boolean closed;
  private Future<Void> archiveReady = Future.succeededFuture();
  private boolean poolStarted;

  /**
   * {@code cacheDir}: where the class-data-sharing archive is kept; {@code classpath}: the runner's
   * jars (see SharedClasspath#runnerClasspath); every runner is launched through {@code sandbox}.
   */
  public Runners(Vertx vertx, RunConfig config, Path cacheDir, Path root, List<Path> classpath, Sandbox sandbox) {
    this.vertx = vertx;
    this.config = config;
    this.cacheDir = cacheDir;
    this.root = root.toAbsolutePath();
    this.classpath = List.copyOf(classpath);
    this.sandbox = sandbox;
  }

  /**
   * Binds to the caller's context (the run stage's) and makes (or finds) the class-data-sharing
   * archive; the warm pool fills once {@link #startPool} is called.
   */
  Future<Void> start() {
    context = vertx.getOrCreateContext();
    client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(2_000));
    Promise<Void> prepared = Promise.promise();
    archiveReady = prepared.future();
    return vertx.executeBlocking(() -> {
      Files.createDirectories(root);
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
      return null;
    }).onSuccess(x -> (config.cds() ? prepareArchive() : Future.<Void>succeededFuture()).onComplete(ar -> prepared.complete()))
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
        fill();
        return Future.succeededFuture(r);
      }
    }
    return launch(false, limits);
  }

  /** A process runner is done with: it exits (killed after {@code graceMs}). A shared runner stays. */
  public Future<String> release(Runner r, long graceMs) {
    if (r.shared) return Future.succeededFuture("shared");
    return r.exit(graceMs);
  }

  private Future<Runner> sharedRunner() {
    if (shared == null || shared.failed() || shared.succeeded() && shared.result().ended().isComplete()) {
      shared = launch(true, Limits.sharedRunner(config));
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
      launch(false, Limits.runner(config, RunSettings.DEFAULT)).onComplete(ar -> {
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

  public Runner get(String id) {
    return all.get(id);
  }

  /** Every runner alive now (warm, serving or shared). */
  List<Runner> alive() {
    return all.values().stream().filter(r -> !r.ended().isComplete()).toList();
  }

  // ---- launching -------------------------------------------------------------------------------

  /**
   * A runner process just started: {@code process} is what the platform launched (bubblewrap, or
   * the JVM itself); {@code jvm} is the runner's JVM once found (its pid, its socket's path).
   */
  private static final class Launched {
    final String id;
    final Process process;
    final Path dir;
    final String secret;
    final Limits limits;
    Path socket;
    ProcessHandle jvm;

    Launched(String id, Process process, Path dir, String secret, Limits limits) {
      this.id = id;
      this.process = process;
      this.dir = dir;
      this.secret = secret;
      this.limits = limits;
    }
  }

  private Future<Runner> launch(boolean isShared, Limits limits) {
    String id = newId(isShared);
    launched.add(id);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> spawn(id, secret, isShared, limits), false)
        .compose(l -> connect(l, System.currentTimeMillis() + LAUNCH_TIMEOUT_MS)
            .compose(socket -> hello(socket, l.id, l.secret, l.jvm, l.process.toHandle(), isShared, limits.heapMb(), l.dir))
            .onSuccess(r -> {
              watch(r, l.process.toHandle(), l.process, limits);
              writeRegistry(l, isShared);
              log.debug("Started {} in {} ms{}", r, (System.nanoTime() - t0) / 1_000_000, archive != null ? " (CDS)" : "");
            })
            .onFailure(e -> {
              Sandbox.kill(l.process);
              vertx.executeBlocking(() -> {
                l.process.waitFor(5, TimeUnit.SECONDS);
                sandbox.release(l.id);
                deleteTree(l.dir);
                return null;
              }, false);
            }));
  }

  private Launched spawn(String id, String secret, boolean isShared, Limits limits) throws IOException {
    Path dir = root.resolve(id);
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    // the services' jars, staged here when loaded; the runner reads them, never writes
    Path lib = Files.createDirectories(dir.resolve(Staging.LIB));
    Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rwxr-xr-x"));
    Sandbox.Launch launch = sandbox.launch(id, limits);
    List<String> cp = classpath.stream().map(j -> launch.readOnly(j, "cp")).toList();
    String jsa = archive == null ? null : launch.readOnly(archive, "cds");
    launch.readOnlyDir(lib, Staging.LIB);
    String tmp = launch.tmp(dir.resolve("tmp"));
    String socket = sandbox.sandboxed() ? SANDBOXED_SOCKET : socketPath(dir, id).toString();
    List<String> cmd = new ArrayList<>(jvm(limits.heapMb(), tmp));
    if (jsa != null) cmd.add("-XX:SharedArchiveFile=" + jsa);
    cmd.addAll(config.jvmOptions());
    cmd.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, cp), MAIN, "--id", id, "--socket", socket,
        "--orphan-grace-ms", String.valueOf(config.orphanGraceMs()), "--mode", isShared ? "shared" : "process",
        "--event-loops", String.valueOf(eventLoops())));
    ProcessBuilder pb = new ProcessBuilder(launch.command(cmd)).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(OUT_LOG).toFile()));
    cleanEnvironment(pb, sandbox.sandboxed() ? "/tmp" : dir.toString());
    Process p = pb.start();
    try (OutputStream in = p.getOutputStream()) {
      in.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Launched l = new Launched(id, p, dir, secret, limits);
    if (!sandbox.sandboxed()) {
      l.jvm = p.toHandle();
      l.socket = Path.of(socket);
    }
    writeRegistry(l, isShared);
    return l;
  }

  /** The registry entry a restarted control plane adopts the runner from (mode 0600: it holds its secret). */
  private void writeRegistry(Launched l, boolean isShared) {
    JsonObject registry = new JsonObject().put("id", l.id).put("pid", l.process.pid()).put("pidStart", Sandbox.startMillis(l.process.toHandle()))
        .put("jvm", l.jvm == null ? -1 : l.jvm.pid()).put("jvmStart", l.jvm == null ? -1 : Sandbox.startMillis(l.jvm))
        .put("socket", l.socket == null ? null : l.socket.toString()).put("secret", l.secret).put("shared", isShared)
        .put("sandboxed", sandbox.sandboxed()).put("memoryMb", l.limits.heapMb()).put("limits", l.limits.toJson())
        .put("startedAt", java.time.Instant.now().toString());
    Path file = l.dir.resolve(REGISTRY);
    try {
      Files.writeString(file, registry.encode());
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      log.warn("Could not write the registry entry of runner {}: {}", l.id, e.toString());
    }
  }

  /** The JVM options every runner gets: its heap, exit on OOM, a lean GC, its own temp dir, no perf data file. */
  private List<String> jvm(int memoryMb, String tmp) {
    return List.of(sandbox.java(), "-Xmx" + memoryMb + "m", "-Xms" + Math.min(memoryMb, 32) + "m", "-XX:+ExitOnOutOfMemoryError",
        "-XX:+UseSerialGC", "-XX:ReservedCodeCacheSize=64m", "-XX:-UsePerfData", "-Xshare:auto",
        "-XX:ErrorFile=" + tmp + "/hs_err.log", "-Djava.io.tmpdir=" + tmp, "-Duser.home=" + tmp,
        "-Dvertx.cacheDirBase=" + tmp + "/vertx-cache", "-Djava.awt.headless=true");
  }

  private int eventLoops() {
    return config.eventLoops() > 0 ? config.eventLoops() : Runtime.getRuntime().availableProcessors();
  }

  /** A runner's environment holds nothing of the platform's: no token, no secrets, no JAVA_TOOL_OPTIONS. */
  private static void cleanEnvironment(ProcessBuilder pb, String home) {
    Map<String, String> env = pb.environment();
    String path = env.getOrDefault("PATH", "/usr/bin:/bin");
    env.clear();
    env.put("PATH", path);
    env.put("LANG", "C.UTF-8");
    env.put("HOME", home);
  }

  private Future<NetSocket> connect(Launched l, long deadline) {
    Promise<NetSocket> p = Promise.promise();
    tryConnect(l, deadline, p);
    return p.future();
  }

  private void tryConnect(Launched l, long deadline, Promise<NetSocket> p) {
    if (l.socket == null) {
      // sandboxed: its socket is in its own /tmp, reached through its JVM's root once that JVM runs
      l.jvm = jvmOf(l.process.toHandle());
      if (l.jvm != null) l.socket = Path.of("/proc", String.valueOf(l.jvm.pid()), "root").resolve(SANDBOXED_SOCKET.substring(1));
    }
    if (l.socket == null || !Files.exists(l.socket)) {
      retry(l, deadline, p, null);
      return;
    }
    client.connect(SocketAddress.domainSocketAddress(l.socket.toString())).onSuccess(p::complete).onFailure(e -> retry(l, deadline, p, e));
  }

  private void retry(Launched l, long deadline, Promise<NetSocket> p, Throwable last) {
    if (!l.process.isAlive()) {
      p.fail(new Runner.Refused("The runner exited at start (status " + l.process.exitValue() + (l.process.exitValue() == Sandbox.CGROUP_FAILED
          ? ": it could not enter its cgroup" : "") + "): " + tail(l.dir)));
    } else if (System.currentTimeMillis() > deadline) {
      p.fail(new Runner.Refused("The runner did not open its socket within " + LAUNCH_TIMEOUT_MS + " ms" + (last == null ? "" : ": " + last)));
    } else {
      vertx.setTimer(5, t -> tryConnect(l, deadline, p));
    }
  }

  /**
   * The runner's JVM under {@code launched}: the process itself, or, sandboxed, the grandchild of
   * bubblewrap (bubblewrap, then the init of its pid namespace, then the JVM); -1 until it runs.
   */
  private ProcessHandle jvmOf(ProcessHandle launched) {
    if (!sandbox.sandboxed()) return launched;
    return launched.children().findFirst().flatMap(init -> init.children().findFirst()).orElse(null);
  }

  /**
   * Authenticates to the runner on {@code socket} and checks it is who it should be. {@code jvm} is
   * its JVM's pid, {@code launcher} the process the platform started (the same one, unsandboxed; a
   * sandboxed runner knows only its pid inside its own namespace, its secret says who it is).
   */
  private Future<Runner> hello(NetSocket socket, String id, String secret, ProcessHandle jvm, ProcessHandle launcher, boolean isShared,
                               int memoryMb, Path dir) {
    boolean sandboxed = jvm.pid() != launcher.pid();
    Runner r = new Runner(id, jvm, launcher, isShared, memoryMb, dir, context, socket);
    return r.request("hello", new JsonObject().put("secret", secret), 5_000).compose(answer -> {
      if (!id.equals(answer.getString("runner")) || !sandboxed && answer.getLong("pid", -1L) != jvm.pid()) {
        socket.close();
        return Future.failedFuture(new Runner.Refused("The socket of runner " + id + " answered as " + answer.getString("runner")
            + " (pid " + answer.getLong("pid") + ")"));
      }
      all.put(id, r);
      r.hosted = answer.getJsonArray("deployments", new JsonArray());
      return Future.succeededFuture(r);
    });
  }

  /** Hears the process end, and says why (the kernel's memory limit, when it was that). */
  private void watch(Runner r, ProcessHandle handle, Process child, Limits limits) {
    handle.onExit().thenAccept(h -> {
      Integer status = child == null ? null : child.exitValue();
      String cause = cause(status, r.tail());
      if (status == null || status == 128 + 9) cause = sandbox.killedFor(r.id, limits).map(why -> "was killed by signal 9 (SIGKILL): " + why)
          .orElse(cause);
      if (status != null && status == Sandbox.CGROUP_FAILED) cause = "could not enter its cgroup (exit status " + status + ")";
      all.remove(r.id);
      r.exited(cause);
      // its sandbox ends with bubblewrap, unless bubblewrap alone was killed: then its JVM goes now
      Sandbox.killTree(r.jvmHandle());
      sandbox.release(r.id);
      if (r.exiting()) deleteTree(r.dir);
    });
  }

  /** Why a runner ended, from its exit status (unknown for one adopted after a restart) and its JVM's last words. */
  static String cause(Integer status, String tail) {
    String what;
    if (status == null) what = "exited";
    else if (status == 0) what = "exited normally";
    else if (status == 3) what = "ran out of memory (exit status 3, -XX:+ExitOnOutOfMemoryError)";
    else if (status == 70) what = "stopped: the service undeployed its verticle or closed its Vert.x";
    else if (status == 71) what = "exited: no control plane adopted it in time";
    else if (status > 128) what = "was killed by signal " + (status - 128) + signalName(status - 128);
    else what = "exited with status " + status + " (the service called System.exit or Runtime.halt, or the JVM failed)";
    String last = tail.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
    for (String l : tail.lines().toList()) {
      if (l.contains("OutOfMemoryError") || l.contains("fatal error") || l.contains("SIGSEGV")) last = l.strip();
    }
    return last.isEmpty() ? what : what + ": " + last;
  }

  private static String signalName(int sig) {
    return switch (sig) {
      case 9 -> " (SIGKILL)";
      case 15 -> " (SIGTERM)";
      case 6 -> " (SIGABRT)";
      case 11 -> " (SIGSEGV)";
      case 2 -> " (SIGINT)";
      case 1 -> " (SIGHUP)";
      default -> "";
    };
  }

  // ---- adoption after a restart -----------------------------------------------------------------

  /**
   * The runners a previous control plane left serving: each registry entry whose process is alive,
   * whose socket answers its secret, and who says it is that runner. Entries of dead runners are
   * deleted. Each runner found knows the deployments it hosts ({@link Runner#hosted}).
   */
  Future<List<Runner>> adoptable() {
    return vertx.executeBlocking(() -> {
      List<JsonObject> entries = new ArrayList<>();
      if (!Files.isDirectory(root)) return entries;
      try (Stream<Path> dirs = Files.list(root)) {
        for (Path dir : dirs.toList()) {
          if (launched.contains(dir.getFileName().toString())) continue;
          Path file = dir.resolve(REGISTRY);
          try {
            JsonObject e = new JsonObject(Files.readString(file));
            // only the very processes it names (their pids may belong to others since)
            Optional<ProcessHandle> launcher = Sandbox.process(e.getLong("pid", -1L), e.getLong("pidStart", -1L));
            Optional<ProcessHandle> jvm = Sandbox.process(e.getLong("jvm", -1L), e.getLong("jvmStart", -1L));
            if (launcher.isPresent() && jvm.isPresent() && e.getString("socket") != null) {
              entries.add(e.put("dir", dir.toString()));
            } else {
              // bubblewrap killed alone leaves its sandbox running: its JVM goes too
              launcher.ifPresent(Sandbox::killTree);
              jvm.ifPresent(Sandbox::killTree);
              sandbox.release(dir.getFileName().toString());
              deleteTree(dir);
            }
          } catch (IOException | RuntimeException unreadable) {
            deleteTree(dir);
          }
        }
      }
      return entries;
    }, false).compose(entries -> {
      List<Future<Runner>> found = new ArrayList<>();
      for (JsonObject e : entries) {
        Path dir = Path.of(e.getString("dir"));
        found.add(client.connect(SocketAddress.domainSocketAddress(e.getString("socket")))
            .compose(s -> hello(s, e.getString("id"), e.getString("secret"), Sandbox.process(e.getLong("jvm"), e.getLong("jvmStart")).orElseThrow(),
                Sandbox.process(e.getLong("pid"), e.getLong("pidStart")).orElseThrow(), e.getBoolean("shared", false),
                e.getInteger("memoryMb", config.memoryMb()), dir))
            .onSuccess(r -> {
              Limits limits = limitsOf(e);
              Sandbox.process(e.getLong("pid"), e.getLong("pidStart")).ifPresentOrElse(h -> watch(r, h, null, limits), () -> r.exited("exited"));
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

  private Limits limitsOf(JsonObject entry) {
    JsonObject l = entry.getJsonObject("limits");
    if (l == null) return Limits.runner(config, RunSettings.DEFAULT);
    try {
      return new Limits(l.getInteger("heapMb"), l.getInteger("rssMb"), l.getInteger("tmpMb"), l.getInteger("maxProcesses"),
          l.getInteger("maxOpenFiles"), l.getInteger("cpuShares"));
    } catch (RuntimeException e) {
      return Limits.runner(config, RunSettings.DEFAULT);
    }
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
    List<Runner> runners = List.copyOf(all.values());
    List<Future<String>> ends = new ArrayList<>();
    for (Runner r : runners) ends.add(r.exit(graceMs));
    warm.clear();
    // a backstop that needs no timer of this (closing) context: whatever still runs a moment later is killed
    java.util.concurrent.CompletableFuture.delayedExecutor(graceMs + 1_000, TimeUnit.MILLISECONDS)
        .execute(() -> runners.forEach(Runner::kill));
    Future<Void> gone = Future.join(ends).mapEmpty();
    return gone.timeout(graceMs + 5_000, TimeUnit.MILLISECONDS)
        .onFailure(e -> log.warn("Runners did not all end within {} ms of being asked to: {}", graceMs + 5_000, e.toString()))
        .transform(x -> client == null ? Future.<Void>succeededFuture() : client.close());
  }

  // ---- the class-data-sharing archive ------------------------------------------------------------

  /** Uses the archive of this runner classpath and JVM, making it first (a training run) if there is none. */
  private Future<Void> prepareArchive() {
    Path jsa;
    try {
      jsa = cacheDir.resolve("runner-" + fingerprint() + ".jsa");
    } catch (IOException e) {
      log.warn("No class-data-sharing archive for runners: {}", e.toString());
      return Future.succeededFuture();
    }
    if (Files.isRegularFile(jsa)) {
      archive = jsa;
      return Future.succeededFuture();
    }
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> {
      Files.createDirectories(jsa.getParent());
      Path tmp = Files.createTempFile(jsa.getParent(), "runner", ".jsa.tmp");
      Files.delete(tmp);
      Path work = Files.createTempDirectory(jsa.getParent(), "train");
      String name = "train-" + ProcessHandle.current().pid() + "-" + Long.toString(System.nanoTime(), 36);
      try {
        // sandboxed as runners are, so the archive names the jars where runners see them
        Sandbox.Launch launch = sandbox.launch(name, Limits.runner(config, RunSettings.DEFAULT));
        List<String> cp = classpath.stream().map(j -> launch.readOnly(j, "cp")).toList();
        Path out = Files.createDirectories(work.resolve("out"));
        String archiveOut = launch.writableDir(out, "out") + "/runner.jsa";
        List<String> cmd = new ArrayList<>(jvm(config.memoryMb(), launch.tmp(work.resolve("tmp"))));
        cmd.addAll(List.of("-XX:ArchiveClassesAtExit=" + archiveOut, "-cp", String.join(java.io.File.pathSeparator, cp), MAIN, "--train"));
        ProcessBuilder pb = new ProcessBuilder(launch.command(cmd)).directory(work.toFile()).redirectErrorStream(true)
            .redirectOutput(work.resolve(OUT_LOG).toFile());
        cleanEnvironment(pb, sandbox.sandboxed() ? "/tmp" : work.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        Path made = out.resolve("runner.jsa");
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(made)) {
          Sandbox.kill(p);
          throw new IOException("the training run failed: " + tail(work));
        }
        // a copy of the platform's own, readable by every runner
        Files.copy(made, tmp);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, jsa, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return jsa;
      } finally {
        sandbox.release(name);
        Files.deleteIfExists(tmp);
        deleteTree(work);
      }
    }, false).onSuccess(p -> {
      archive = p;
      log.info("Runner class-data-sharing archive made in {} ms: {}", (System.nanoTime() - t0) / 1_000_000, p);
    }).onFailure(e -> log.warn("No class-data-sharing archive for runners (they start slower): {}", e.toString())).mapEmpty();
  }

  /** Names the archive after what it depends on: the JVM and every jar of the classpath (path, size, time). */
  private String fingerprint() throws IOException {
    // sandboxed runners see the jars elsewhere than unsandboxed ones: an archive for each
    StringBuilder sb = new StringBuilder(System.getProperty("java.home")).append(System.getProperty("java.vm.version"))
        .append(sandbox.sandboxed() ? " sandboxed" : "");
    for (Path p : classpath) sb.append('\n').append(p).append(' ').append(Files.size(p)).append(' ').append(Files.getLastModifiedTime(p).toMillis());
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /** The runner's socket in its dir, or in a short temp dir when that path is too long for a Unix socket. */
  private static Path socketPath(Path dir, String id) throws IOException {
    Path p = dir.resolve("ch.sock");
    if (p.toString().length() <= 100) return p;
    Path short_ = Path.of(System.getProperty("java.io.tmpdir"), "ferry-sockets");
    Files.createDirectories(short_);
    Files.setPosixFilePermissions(short_, PosixFilePermissions.fromString("rwx------"));
    return short_.resolve(id + ".sock");
  }

  private static String tail(Path dir) {
    try {
      String s = Files.readString(dir.resolve(OUT_LOG));
      return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    } catch (IOException e) {
      return "";
    }
  }

  private static String newId(boolean isShared) {
    return (isShared ? "s" : "r") + Long.toString(System.currentTimeMillis(), 36) + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      log.debug("Could not delete {}: {}", dir, e.toString());
    }
  }
}
