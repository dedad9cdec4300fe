package dev.ferry.run;

import dev.ferry.Config;
import dev.ferry.deployment.RunSettings;
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
 * made once by a training run.
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

  private final Vertx vertx;
  private final Config config;
  private final Path root;
  private final List<Path> classpath;
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

  /** {@code classpath}: the runner's jars (see SharedClasspath#runnerClasspath). */
  public Runners(Vertx vertx, Config config, Path root, List<Path> classpath) {
    this.vertx = vertx;
    this.config = config;
    this.root = root.toAbsolutePath();
    this.classpath = List.copyOf(classpath);
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
    int memory = settings.memoryMb().orElse(config.memoryMb());
    if (memory == config.memoryMb()) {
      warm.removeIf(r -> r.ended().isComplete());
      // one that has finished warming up, else the one launched first
      Runner r = warm.stream().filter(x -> x.warm).findFirst().orElse(warm.peek());
      if (r != null) {
        warm.remove(r);
        fill();
        return Future.succeededFuture(r);
      }
    }
    return launch(false, memory);
  }

  /** A process runner is done with: it exits (killed after {@code graceMs}). A shared runner stays. */
  public Future<String> release(Runner r, long graceMs) {
    if (r.shared) return Future.succeededFuture("shared");
    return r.exit(graceMs);
  }

  private Future<Runner> sharedRunner() {
    if (shared == null || shared.failed() || shared.succeeded() && shared.result().ended().isComplete()) {
      shared = launch(true, config.sharedMemoryMb());
    }
    return shared;
  }

  /** Tops the warm pool up to {@code run.warmRunners}, once the pool is started. */
  private void fill() {
    if (closed || !poolStarted) return;
    while (warm.size() + launching < config.warmRunners()) {
      launching++;
      launch(false, config.memoryMb()).onComplete(ar -> {
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

  private record Launched(String id, Process process, Path dir, Path socket, String secret) {
  }

  private Future<Runner> launch(boolean isShared, int memoryMb) {
    String id = newId(isShared);
    launched.add(id);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> spawn(id, secret, isShared, memoryMb), false)
        .compose(l -> connect(l, System.currentTimeMillis() + LAUNCH_TIMEOUT_MS)
            .compose(socket -> hello(socket, l.id, l.secret, l.process.pid(), isShared, memoryMb, l.dir))
            .onSuccess(r -> {
              watch(r, l.process.toHandle(), l.process);
              log.debug("Started {} in {} ms{}", r, (System.nanoTime() - t0) / 1_000_000, archive != null ? " (CDS)" : "");
            })
            .onFailure(e -> {
              l.process.destroyForcibly();
              deleteTree(l.dir);
            }));
  }

  private Launched spawn(String id, String secret, boolean isShared, int memoryMb) throws IOException {
    Path dir = root.resolve(id);
    Files.createDirectories(dir.resolve("tmp"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path socket = socketPath(dir, id);
    List<String> cmd = new ArrayList<>(jvm(memoryMb, dir));
    if (archive != null) cmd.add("-XX:SharedArchiveFile=" + archive);
    cmd.addAll(config.jvmOptions());
    cmd.addAll(List.of("-cp", joined(classpath), MAIN, "--id", id, "--socket", socket.toString(),
        "--orphan-grace-ms", String.valueOf(config.orphanGraceMs()), "--mode", isShared ? "shared" : "process",
        "--event-loops", String.valueOf(eventLoops())));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(OUT_LOG).toFile()));
    cleanEnvironment(pb, dir);
    Process p = pb.start();
    try (OutputStream in = p.getOutputStream()) {
      in.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
    }
    JsonObject registry = new JsonObject().put("id", id).put("pid", p.pid()).put("socket", socket.toString()).put("secret", secret)
        .put("shared", isShared).put("memoryMb", memoryMb).put("startedAt", java.time.Instant.now().toString());
    Path file = dir.resolve(REGISTRY);
    Files.writeString(file, registry.encode());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return new Launched(id, p, dir, socket, secret);
  }

  /** The JVM options every runner gets: its heap, exit on OOM, a lean GC, its own temp dir, no perf data file. */
  private static List<String> jvm(int memoryMb, Path dir) {
    return List.of(java(), "-Xmx" + memoryMb + "m", "-Xms" + Math.min(memoryMb, 32) + "m", "-XX:+ExitOnOutOfMemoryError",
        "-XX:+UseSerialGC", "-XX:ReservedCodeCacheSize=64m", "-XX:-UsePerfData", "-Xshare:auto",
        "-XX:ErrorFile=" + dir.resolve("hs_err.log"), "-Djava.io.tmpdir=" + dir.resolve("tmp"),
        "-Dvertx.cacheDirBase=" + dir.resolve("tmp").resolve("vertx-cache"), "-Djava.awt.headless=true");
  }

  private int eventLoops() {
    return config.eventLoops() > 0 ? config.eventLoops() : Runtime.getRuntime().availableProcessors();
  }

  /** A runner's environment holds nothing of the platform's: no token, no secrets, no JAVA_TOOL_OPTIONS. */
  private static void cleanEnvironment(ProcessBuilder pb, Path dir) {
    Map<String, String> env = pb.environment();
    String path = env.getOrDefault("PATH", "/usr/bin:/bin");
    env.clear();
    env.put("PATH", path);
    env.put("LANG", "C.UTF-8");
    env.put("HOME", dir.toString());
  }

  private Future<NetSocket> connect(Launched l, long deadline) {
    Promise<NetSocket> p = Promise.promise();
    tryConnect(l, deadline, p);
    return p.future();
  }

  private void tryConnect(Launched l, long deadline, Promise<NetSocket> p) {
    if (!Files.exists(l.socket)) {
      retry(l, deadline, p, null);
      return;
    }
    client.connect(SocketAddress.domainSocketAddress(l.socket.toString())).onSuccess(p::complete).onFailure(e -> retry(l, deadline, p, e));
  }

  private void retry(Launched l, long deadline, Promise<NetSocket> p, Throwable last) {
    if (!l.process.isAlive()) {
      p.fail(new Runner.Refused("The runner exited at start (status " + l.process.exitValue() + "): " + tail(l.dir)));
    } else if (System.currentTimeMillis() > deadline) {
      p.fail(new Runner.Refused("The runner did not open its socket within " + LAUNCH_TIMEOUT_MS + " ms" + (last == null ? "" : ": " + last)));
    } else {
      vertx.setTimer(5, t -> tryConnect(l, deadline, p));
    }
  }

  /** Authenticates to the runner on {@code socket} and checks it is who it should be. */
  private Future<Runner> hello(NetSocket socket, String id, String secret, long pid, boolean isShared, int memoryMb, Path dir) {
    Runner r = new Runner(id, pid, isShared, memoryMb, dir, context, socket);
    return r.request("hello", new JsonObject().put("secret", secret), 5_000).compose(answer -> {
      if (!id.equals(answer.getString("runner")) || answer.getLong("pid", -1L) != pid) {
        socket.close();
        return Future.failedFuture(new Runner.Refused("The socket of runner " + id + " answered as " + answer.getString("runner")
            + " (pid " + answer.getLong("pid") + ")"));
      }
      all.put(id, r);
      r.hosted = answer.getJsonArray("deployments", new JsonArray());
      return Future.succeededFuture(r);
    });
  }

  /** Hears the process end, and says why. */
  private void watch(Runner r, ProcessHandle handle, Process child) {
    handle.onExit().thenAccept(h -> {
      String cause = cause(child == null ? null : child.exitValue(), r.tail());
      all.remove(r.id);
      r.exited(cause);
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
            if (ProcessHandle.of(e.getLong("pid")).map(ProcessHandle::isAlive).orElse(false)) entries.add(e.put("dir", dir.toString()));
            else deleteTree(dir);
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
            .compose(s -> hello(s, e.getString("id"), e.getString("secret"), e.getLong("pid"), e.getBoolean("shared", false),
                e.getInteger("memoryMb", config.memoryMb()), dir))
            .onSuccess(r -> {
              ProcessHandle.of(r.pid).ifPresentOrElse(h -> watch(r, h, null), () -> r.exited("exited"));
              if (r.shared && shared == null) shared = Future.succeededFuture(r);
            })
            .onFailure(x -> log.warn("Runner {} (pid {}) left by the previous control plane did not answer: {}; killing it",
                e.getString("id"), e.getLong("pid"), x.getMessage())));
      }
      return Future.join(found).transform(x -> {
        List<Runner> out = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
          if (found.get(i).succeeded()) out.add(found.get(i).result());
          else ProcessHandle.of(entries.get(i).getLong("pid")).ifPresent(ProcessHandle::destroyForcibly);
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
    List<Future<String>> ends = new ArrayList<>();
    for (Runner r : List.copyOf(all.values())) ends.add(r.exit(graceMs));
    warm.clear();
    Future<Void> all = Future.join(ends).mapEmpty();
    return all.eventually(() -> client == null ? Future.<Void>succeededFuture() : client.close());
  }

  // ---- the class-data-sharing archive ------------------------------------------------------------

  /** Uses the archive of this runner classpath and JVM, making it first (a training run) if there is none. */
  private Future<Void> prepareArchive() {
    Path jsa;
    try {
      jsa = config.cacheDir().resolve("runner-" + fingerprint() + ".jsa");
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
      try {
        List<String> cmd = new ArrayList<>(jvm(config.memoryMb(), work));
        cmd.addAll(List.of("-XX:ArchiveClassesAtExit=" + tmp, "-cp", joined(classpath), MAIN, "--train"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
            .redirectOutput(work.resolve(OUT_LOG).toFile());
        cleanEnvironment(pb, work);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(tmp)) {
          p.destroyForcibly();
          throw new IOException("the training run failed: " + tail(work));
        }
        Files.move(tmp, jsa, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return jsa;
      } finally {
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
    StringBuilder sb = new StringBuilder(System.getProperty("java.home")).append(System.getProperty("java.vm.version"));
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

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static String joined(List<Path> paths) {
    return String.join(java.io.File.pathSeparator, paths.stream().map(Path::toString).toList());
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
