package dev.ferry.run;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * One runner process as the control plane sees it: its private channel, the requests in flight on
 * it, the events it sends ({@code log}, {@code bound}, {@code gone}) and how it ended. Everything
 * here runs on the run stage's context; calls from elsewhere are moved there.
 */
public final class Runner {

  /** A runner refused or failed a request, with a message for the deployment's log. */
  public static final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message, null, false, false);
    }
  }

  /** The port the service was given was taken by another process between its choice and the bind. */
  static final class PortTaken extends RuntimeException {
    PortTaken(String message) {
      super(message, null, false, false);
    }
  }

  private static final int MAX_FRAME = 8 * 1024 * 1024;

  final String id;
  /** Its JVM's pid. */
  final long pid;
  /** The process the platform started: bubblewrap, or the JVM itself when unsandboxed. */
  final long launcher;
  /** Its JVM and the process the platform started, bound to their start times (a pid may be reused once they are gone). */
  private final ProcessHandle jvmHandle, launcherHandle;
  final boolean shared;
  final int memoryMb;
  final Path dir;
  private final Context context;
  private final Vertx vertx;
  private final NetSocket socket;
  private final Map<Long, Promise<JsonObject>> pending = new HashMap<>();
  private final Promise<String> ended = Promise.promise();
  private final Promise<Void> channelEnd = Promise.promise();
  private Handler<JsonObject> events = e -> { };
  /** The deployments it said it hosts when the control plane connected (after a restart: what it still serves). */
  JsonArray hosted = new JsonArray();
  /** It said it has warmed up: the next service it gets pays nothing for code's first run. */
  boolean warm;
  /** It said, when the control plane connected, that no control plane ever gave it a service. */
  boolean pristine;
  /** After a restart: what it was launched as ({@link RunnerLauncher#poolKey}, from its registry entry); null if unknown. */
  String poolKey;
  /** How many of its log lines the control plane takes (set by the run stage). */
  LogBudget budget = new LogBudget();
  private long nextId;
  private boolean exiting;

  Runner(String id, ProcessHandle jvm, ProcessHandle launcher, boolean shared, int memoryMb, Path dir, Context context, NetSocket socket) {
    this.id = id;
    this.jvmHandle = jvm;
    this.launcherHandle = launcher;
    this.pid = jvm.pid();
    this.launcher = launcher.pid();
    this.shared = shared;
    this.memoryMb = memoryMb;
    this.dir = dir;
    this.context = context;
    this.vertx = context.owner();
    this.socket = socket;
    socket.handler(RecordParser.newDelimited("\n", this::frame).maxRecordSize(MAX_FRAME));
    socket.closeHandler(v -> {
      failPending();
      channelEnd.tryComplete();
    });
  }

  public String id() {
    return id;
  }

  public long pid() {
    return pid;
  }

  /** Who hears this runner's events (replaces the previous listener). */
  void events(Handler<JsonObject> handler) {
    this.events = handler;
  }

  /** Sends {@code op} with {@code body}; fails with {@link Refused} if the runner answers an error, or on timeout. */
  Future<JsonObject> request(String op, JsonObject body, long timeoutMs) {
    if (Vertx.currentContext() != context) {
      Promise<JsonObject> p = Promise.promise();
      context.runOnContext(v -> request(op, body, timeoutMs).onComplete(p));
      return p.future();
    }
    if (ended.future().isComplete()) return Future.failedFuture(new Refused("Runner " + id + " is gone: " + ended.future().result()));
    long n = ++nextId;
    Promise<JsonObject> p = Promise.promise();
    pending.put(n, p);
    long timer = vertx.setTimer(timeoutMs, t -> {
      if (pending.remove(n) != null) p.tryFail(new TimeoutException("runner " + id + " did not answer " + op + " within " + timeoutMs + " ms"));
    });
    socket.write(body.copy().put("id", n).put("op", op).encode() + "\n");
    return p.future().andThen(ar -> vertx.cancelTimer(timer)).compose(reply -> reply.containsKey("error")
        ? Future.failedFuture(new Refused(reply.getString("error"))) : Future.succeededFuture(reply));
  }

  /** What the runner reports of itself: service classloaders alive (after a GC when {@code gc}), hosts, threads, heap used. */
  public Future<JsonObject> stats(boolean gc) {
    return request("stats", new JsonObject().put("gc", gc), 30_000);
  }

  /**
   * Loads {@code artifact} as deployment {@code deployment} of {@code service}: its jars are staged
   * where this runner reads them, the artifact checked against its sha256 first (see
   * {@link Staging}); completes with its entry verticle.
   */
  public Future<String> load(String deployment, String service, dev.ferry.deployment.Artifact artifact, long timeoutMs) {
    return vertx.executeBlocking(() -> Staging.stage(dir, pid != launcher, deployment, artifact), false)
        .compose(jars -> request("load", new JsonObject().put("deployment", deployment).put("service", service)
            .put("jars", new JsonArray(jars)).put("entry", artifact.entry().orElse(null)), timeoutMs))
        .map(reply -> reply.getString("entry"));
  }

  private void frame(io.vertx.core.buffer.Buffer line) {
    JsonObject f;
    try {
      f = new JsonObject(line.toString(StandardCharsets.UTF_8));
    } catch (RuntimeException garbage) {
      return;
    }
    Object re = f.getValue("re");
    if (re instanceof Number n) {
      Promise<JsonObject> p = pending.remove(n.longValue());
      if (p != null) p.tryComplete(f);
    } else if ("warm".equals(f.getString("ev"))) {
      warm = true;
    } else if (f.getString("ev") != null) {
      events.handle(f);
    }
  }

  /** Completes once its channel has closed: it died, or it exits, or it took another control plane's hello. */
  Future<Void> channelClosed() {
    return channelEnd.future();
  }

  private void failPending() {
    // a failed request's handler may send another: fail a copy
    List<Promise<JsonObject>> failed = List.copyOf(pending.values());
    pending.clear();
    failed.forEach(p -> p.tryFail(new Refused("Runner " + id + " closed its channel")));
  }

  /** Completes with why the runner ended, once it has. */
  Future<String> ended() {
    return ended.future();
  }

  /** Called (on any thread) when the process is gone. */
  void exited(String cause) {
    context.runOnContext(v -> {
      try {
        failPending();
      } finally {
        // whatever a failed request's handler did, the end is heard
        ended.tryComplete(cause);
      }
    });
  }

  /** Whether the control plane asked it to end: its exit is then no crash. */
  boolean exiting() {
    return exiting;
  }

  /** Asks it to exit; kills it if it has not after {@code graceMs}. Completes once it is gone. */
  Future<String> exit(long graceMs) {
    if (Vertx.currentContext() != context) {
      Promise<String> p = Promise.promise();
      context.runOnContext(v -> exit(graceMs).onComplete(p));
      return p.future();
    }
    exiting = true;
    if (!ended.future().isComplete()) {
      request("exit", new JsonObject(), graceMs).onFailure(e -> kill());
      long timer = vertx.setTimer(graceMs, t -> kill());
      ended.future().onComplete(x -> vertx.cancelTimer(timer));
    }
    return ended.future();
  }

  /** SIGKILL, to its sandbox's every process (its JVM too, should bubblewrap be gone without it). */
  void kill() {
    dev.ferry.sandbox.Sandbox.killTree(launcherHandle);
    dev.ferry.sandbox.Sandbox.killTree(jvmHandle);
  }

  ProcessHandle jvmHandle() {
    return jvmHandle;
  }

  /** The last lines the JVM itself wrote (its out.log): why it died, when the JVM says so. */
  String tail() {
    Path log = dir.resolve(Runners.OUT_LOG);
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      long len = f.length();
      long from = Math.max(0, len - 2048);
      byte[] b = new byte[(int) (len - from)];
      f.seek(from);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
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

  @Override
  public String toString() {
    return "runner " + id + " (pid " + pid + ")";
  }
}
