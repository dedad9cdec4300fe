package dev.ferry.run;

import dev.ferry.settings.RunConfig;
import dev.ferry.sandbox.Launch;
import dev.ferry.sandbox.Limits;
import dev.ferry.sandbox.Sandbox;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static dev.ferry.run.Runners.OUT_LOG;

/**
 * Launches runner processes for {@link Runners}: through the sandbox, with a clean environment,
 * its secret on stdin, a directory of its own and a registry entry a restarted control plane
 * adopts it from; then connects to its socket and checks it is who it should be.
 */
final class RunnerLauncher {

  private static final Logger log = LoggerFactory.getLogger(Runners.class);
  static final String MAIN = "dev.ferry.runner.RunnerMain";
  /** How long a new runner may take to open its socket. */
  private static final long LAUNCH_TIMEOUT_MS = 30_000;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** A sandboxed runner's socket, in its private /tmp; the control plane reaches it through /proc/<its pid>/root. */
  private static final String SANDBOXED_SOCKET = "/tmp/ferry-runner.sock";

  private final Vertx vertx;
  private final RunConfig config;
  private final Path root;
  private final List<Path> classpath;
  private final Sandbox sandbox;
  private final Map<String, Runner> all;
  private final java.util.Set<String> launched;
  private Context context;
  private NetClient client;
  /** The class-data-sharing archive runners start from, once made. */
  Path archive;
  private final LaunchQueue starting = new LaunchQueue(Math.max(2, Runtime.getRuntime().availableProcessors()));

  RunnerLauncher(Vertx vertx, RunConfig config, Path root, List<Path> classpath, Sandbox sandbox, Map<String, Runner> all,
                 java.util.Set<String> launched) {
    this.vertx = vertx;
    this.config = config;
    this.root = root;
    this.classpath = classpath;
    this.sandbox = sandbox;
    this.all = all;
    this.launched = launched;
  }

  /** Runners are made on {@code context} and reached with {@code client}. */
  void bind(Context context, NetClient client) {
    this.context = context;
    this.client = client;
  }

  /** A new runner, started once fewer than one per core are starting. */
  Future<Runner> launch(boolean isShared, Limits limits) {
    return starting.submit(() -> start(isShared, limits));
  }

  /** Stops launching: launches still waiting their turn fail. Completes once those under way have started or failed. */
  Future<Void> close() {
    return starting.close();
  }

  private Future<Runner> start(boolean isShared, Limits limits) {
    String id = newId(isShared);
    launched.add(id);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> spawn(id, secret, isShared, limits), false)
        .compose(l -> connect(l, System.currentTimeMillis() + LAUNCH_TIMEOUT_MS)
            .compose(socket -> hello(socket, l.id, l.secret, l.jvm, l.process.toHandle(), isShared, limits.heapMb(), l.dir))
            .onSuccess(r -> {
              watch(r, l.process, limits);
              log.debug("Started {} in {} ms{}", r, (System.nanoTime() - t0) / 1_000_000, archive != null ? " (CDS)" : "");
            })
            // sandboxed, its JVM and socket are known only now: its entry again, on a worker, before the runner is given
            .compose(r -> sandbox.sandboxed() ? vertx.executeBlocking(() -> writeRegistry(l, isShared), false).map(r) : Future.succeededFuture(r))
            // off the event loop (finding its processes reads every process's /proc entry); it fails once that is done
            .recover(e -> vertx.executeBlocking(() -> {
              Sandbox.kill(l.process);
              l.process.waitFor(5, TimeUnit.SECONDS);
              sandbox.release(l.id);
              Retention.deleteQuietly(l.dir);
              return null;
            }, false).transform(x -> Future.failedFuture(e))));
  }

  private Launched spawn(String id, String secret, boolean isShared, Limits limits) throws IOException {
    Path dir = root.resolve(id);
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    // the services' jars, staged here when loaded; the runner reads them, never writes
    Path lib = Files.createDirectories(dir.resolve(Staging.LIB));
    Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rwxr-xr-x"));
    Launch launch = sandbox.launch(id, limits);
    List<String> cp = classpath.stream().map(j -> launch.readOnly(j, "cp")).toList();
    String jsa = archive == null ? null : launch.readOnly(archive, "cds");
    launch.readOnlyDir(lib, Staging.LIB);
    String tmp = launch.tmp(dir.resolve("tmp"));
    String socket = sandbox.sandboxed() ? SANDBOXED_SOCKET : socketPath(dir, id).toString();
    List<String> cmd = new ArrayList<>(RunnerJvm.options(sandbox.java(), limits.heapMb(), tmp));
    if (jsa != null) cmd.add("-XX:SharedArchiveFile=" + jsa);
    cmd.addAll(config.jvmOptions());
    cmd.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, cp), MAIN, "--id", id, "--socket", socket,
        "--orphan-grace-ms", String.valueOf(config.orphanGraceMs()), "--mode", isShared ? "shared" : "process",
        "--event-loops", String.valueOf(eventLoops())));
    ProcessBuilder pb = new ProcessBuilder(launch.command(cmd)).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(OUT_LOG).toFile()));
    RunnerJvm.cleanEnvironment(pb, sandbox.sandboxed() ? "/tmp" : dir.toString());
    Process p = pb.start();
    try (OutputStream in = p.getOutputStream()) {
      in.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Launched l = new Launched(id, p, dir, secret, limits);
    if (!sandbox.sandboxed()) {
      l.jvm = p.toHandle();
      l.socket = Path.of(socket);
    }
    return writeRegistry(l, isShared);
  }

  /** Writes {@code l}'s registry entry, which a restarted control plane adopts it from (see {@link RunnerRegistry}); returns {@code l}. */
  private Launched writeRegistry(Launched l, boolean isShared) {
    RunnerRegistry.write(l.dir, l.id, new JsonObject().put("id", l.id).put("pid", l.process.pid())
        .put("pidStart", Sandbox.startMillis(l.process.toHandle()))
        .put("jvm", l.jvm == null ? -1 : l.jvm.pid()).put("jvmStart", l.jvm == null ? -1 : Sandbox.startMillis(l.jvm))
        .put("socket", l.socket == null ? null : l.socket.toString()).put("secret", l.secret).put("shared", isShared)
        .put("sandboxed", sandbox.sandboxed()).put("memoryMb", l.limits.heapMb()).put("limits", l.limits.toJson())
        .put("pool", isShared ? null : poolKey(l.limits)).put("startedAt", java.time.Instant.now().toString()));
    return l;
  }

  /** What a process runner with {@code limits} is launched as here (see {@link RunnerRegistry#poolKey}). */
  String poolKey(Limits limits) {
    return RunnerRegistry.poolKey(classpath, config, eventLoops(), limits, sandbox.sandboxed());
  }

  private int eventLoops() {
    return config.eventLoops() > 0 ? config.eventLoops() : Runtime.getRuntime().availableProcessors();
  }

  private Future<NetSocket> connect(Launched l, long deadline) {
    Promise<NetSocket> p = Promise.promise();
    tryConnect(l, deadline, p);
    return p.future();
  }

  private void tryConnect(Launched l, long deadline, Promise<NetSocket> p) {
    if (l.socket == null) {
      // sandboxed: its socket is in its own /tmp, reached through its JVM's root once that JVM runs
      l.jvm = sandbox.sandboxed() ? RunnerJvm.under(l.process.toHandle()) : l.process.toHandle();
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
   * Authenticates to the runner on {@code socket} and checks it is who it should be. {@code jvm} is
   * its JVM's pid, {@code launcher} the process the platform started (the same one, unsandboxed; a
   * sandboxed runner knows only its pid inside its own namespace, its secret says who it is).
   */
  Future<Runner> hello(NetSocket socket, String id, String secret, ProcessHandle jvm, ProcessHandle launcher, boolean isShared, int memoryMb, Path dir) {
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
      r.pristine = answer.getBoolean("pristine", false);
      // its "warm", if it warmed up while no control plane listened, came before this answer
      r.warm |= answer.getBoolean("warm", false);
      return Future.succeededFuture(r);
    });
  }

  /**
   * Hears the runner end, and says why (the kernel's memory limit, when it was that). A child of
   * ours ({@code child}) is heard through its {@link Process}, whose exit status is known once it
   * completes. One that is not (a runner adopted after a restart: {@code child} null) is heard
   * through its channel, which closes the moment it dies. Java would hear such a process end only by
   * polling from a thread of its own per process (every 0.3 s at first, up to every 5 s: 2.5 s late
   * here, and a third of an idle platform's CPU with a hundred adopted runners), and only once its
   * new parent has reaped it. A runner whose channel closed while it lives is of no more use to this
   * control plane: whatever remains of it is killed. In a sandbox nothing else can hold the channel
   * open once the JVM is gone (its pid namespace ends with it); unsandboxed, a process the service
   * forked natively could, and the runner's end would be heard when that process ends too.
   */
  void watch(Runner r, Process child, Limits limits) {
    if (child != null) {
      child.onExit().thenAccept(p -> ended(r, p.exitValue(), limits));
      return;
    }
    // off the event loop: finding a process's descendants reads every process's /proc entry
    r.channelClosed().onComplete(x -> vertx.executeBlocking(() -> {
      r.kill();
      ended(r, null, limits);
      return null;
    }, false));
  }

  private void ended(Runner r, Integer status, Limits limits) {
    String cause;
    try {
      cause = cause(r, status, limits);
    } catch (RuntimeException e) {
      // the end is heard whatever reading its cause did: whoever waits for it (a stop, a close) goes on
      cause = "ended (why could not be read: " + e + ")";
    }
    all.remove(r.id);
    try { // before the end is heard: who waits for it (a close) finds the runner's sandbox and files gone
      Sandbox.killTree(r.jvmHandle()); // it ends with bubblewrap, unless bubblewrap alone was killed
      sandbox.release(r.id);
      if (r.exiting()) Retention.deleteQuietly(r.dir);
    } finally {
      r.exited(cause);
    }
  }

  /** Why {@code r} ended with exit {@code status}: the JVM's last words, or the kernel's memory limit, or its cgroup. */
  private String cause(Runner r, Integer status, Limits limits) {
    if (status != null && status == Sandbox.CGROUP_FAILED) return "could not enter its cgroup (exit status " + status + ")";
    String cause = Runner.cause(status, r.tail());
    if (status != null && status != 128 + 9) return cause;
    return sandbox.killedFor(r.id, limits).map(why -> "was killed by signal 9 (SIGKILL): " + why).orElse(cause);
  }

  /** The runner's socket in its dir, or in a short temp dir when that path is too long for a Unix socket. */
  private static Path socketPath(Path dir, String id) throws IOException {
    Path p = dir.resolve("ch.sock");
    if (p.toString().length() <= 100) return p;
    Path short_ = Path.of(System.getProperty("java.io.tmpdir"), "ferry-sockets");
    Files.createDirectories(short_);
    Files.setPosixFilePermissions(short_, PosixFilePermissions.fromString("rwx------"));
    return short_.resolve(id + ".sock");
  }

  static String tail(Path dir) {
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
}
