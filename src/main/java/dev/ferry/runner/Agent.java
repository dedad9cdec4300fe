package dev.ferry.runner;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The runner's end of its private channel: a Unix domain socket only its control plane may use.
 * A connection counts once its first frame is {@code hello} with the runner's secret (given on
 * stdin at launch); anything else is closed. Frames are JSON objects, one per line.
 *
 * <pre>
 * control plane → runner   {"id":n,"op":"hello","secret":…}   → {"re":n,"runner","pid","deployments":[{deployment,service,port}],"pristine","warm"}
 *                          {"id":n,"op":"load","deployment","service","jars":[…],"entry"}   → {"re":n,"entry"} | {"re":n,"error"}
 *                          {"id":n,"op":"start","deployment","config","port","routedRequest","threading"} → {"re":n} | {"re":n,"error"}
 *                          {"id":n,"op":"stop","deployment","timeoutMs"}                    → {"re":n,"leaks":[…]}
 *                          {"id":n,"op":"stats","gc"} → {"re":n,"loaders","threads","heapUsed"}     {"id":n,"op":"exit"}
 * runner → control plane   {"ev":"log","deployment","level","stage","message"}   {"ev":"bound","deployment","requested","port","failure"}
 *                          {"ev":"gone","deployment","cause"}   {"ev":"warm"} (warmed up, ready for a service)
 * </pre>
 *
 * With no control plane connected (at launch, or after it died) the runner keeps serving for the
 * orphan grace period, waiting to be adopted, then exits.
 */
final class Agent {

  /** Exit codes the control plane explains. */
  static final int EXIT_ASKED = 0;
  static final int EXIT_GONE = 70;
  static final int EXIT_ORPHANED = 71;

  private final String id;
  private final Path socket;
  private final byte[] secretDigest;
  private final long orphanGraceMs;
  private final boolean shared;
  private final Map<String, ServiceHost> hosts = new ConcurrentHashMap<>();
  private final Map<String, Integer> ports = new ConcurrentHashMap<>();
  private final Set<ServiceClassLoader> loaders = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private final Outbox outbox = new Outbox();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("ferry-runner-timer"));
  private final ExecutorService pool = Executors.newCachedThreadPool(daemon("ferry-runner-work"));
  /**
   * The runner's work: each task ends with the thread's context loader reset. Vert.x leaves a
   * deployment's loader as the context loader of the thread that deployed it; a pooled thread that
   * kept it would pin that service's classes, and hand them on to every thread it starts (a next
   * service's Vert.x timer thread, say).
   */
  private final java.util.concurrent.Executor work = task -> pool.execute(() -> {
    try {
      task.run();
    } finally {
      Thread.currentThread().setContextClassLoader(Agent.class.getClassLoader());
    }
  });
  private final AtomicBoolean exiting = new AtomicBoolean();
  private ScheduledFuture<?> orphan;
  private CompletableFuture<ServiceVertx.Prepared> spare;
  private Output output;
  /** A service is waiting for the Vert.x the warm-up ends with. */
  private volatile boolean serviceWaiting;
  /** No control plane gave it a service (no {@code load}, no {@code start}, marked as the frame is read): said in its hello answer. */
  private volatile boolean pristine = true;
  private final ServiceVertx vertxes;

  Agent(String id, Path socket, String secret, long orphanGraceMs, boolean shared, int eventLoops) {
    this.id = id;
    this.socket = socket;
    this.secretDigest = Frames.sha256(secret);
    this.orphanGraceMs = orphanGraceMs;
    this.shared = shared;
    this.vertxes = new ServiceVertx(shared, eventLoops, () -> output);
  }

  /** Binds the socket and serves until the runner exits. */
  void serve() throws IOException {
    output = Output.install(outbox::line, () -> hosts.size() == 1 ? hosts.keySet().iterator().next() : null);
    Files.deleteIfExists(socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    Thread sender = daemon("ferry-runner-send").newThread(outbox::send);
    sender.start();
    armOrphanTimer();
    spare = CompletableFuture.supplyAsync(this::prepare, work);
    while (true) {
      SocketChannel ch = server.accept();
      daemon("ferry-runner-channel").newThread(() -> connection(ch)).start();
    }
  }

  /**
   * Warms the JVM up, then makes the Vert.x the next service will run on, and says the runner is
   * warm (the control plane takes warm runners first). A service given to a runner still warming
   * up stops the warm-up at its next step.
   */
  private ServiceVertx.Prepared prepare() {
    ServiceVertx.Prepared p = vertxes.warmedUp(() -> serviceWaiting);
    // the control plane prefers a warm runner for the next service
    outbox.event(new JsonObject().put("ev", "warm"));
    return p;
  }

  // ---- the connection ------------------------------------------------------------------------

  private void connection(SocketChannel ch) {
    Frames in = new Frames(ch);
    ScheduledFuture<?> deadline = timer.schedule(() -> Frames.closeQuietly(ch), 5, TimeUnit.SECONDS);
    try {
      JsonObject hello = in.next();
      deadline.cancel(false);
      if (hello == null || !"hello".equals(hello.getString("op")) || !MessageDigest.isEqual(Frames.sha256(hello.getString("secret", "")), secretDigest)) {
        Frames.closeQuietly(ch);
        return;
      }
      SocketChannel old = outbox.current;
      outbox.current = ch;
      if (old != null) Frames.closeQuietly(old);
      cancelOrphanTimer();
      outbox.reply(hello, helloAnswer());
      JsonObject frame;
      while ((frame = in.next()) != null) dispatch(frame);
    } catch (IOException | RuntimeException e) {
      // the control plane went away or spoke nonsense: wait for the next one
    } finally {
      Frames.closeQuietly(ch);
      if (outbox.current == ch) {
        outbox.current = null;
        armOrphanTimer();
      }
    }
  }

  private JsonObject helloAnswer() {
    JsonArray ds = new JsonArray();
    hosts.values().forEach(h -> ds.add(new JsonObject().put("deployment", h.deployment).put("service", h.service)
        .put("port", ports.get(h.deployment))));
    CompletableFuture<ServiceVertx.Prepared> next = spare;
    return new JsonObject().put("runner", id).put("pid", ProcessHandle.current().pid()).put("deployments", ds)
        .put("pristine", pristine).put("warm", next != null && next.isDone() && !next.isCompletedExceptionally());
  }

  private void dispatch(JsonObject f) {
    String op = f.getString("op", "");
    switch (op) {
      case "hello" -> outbox.reply(f, helloAnswer());
      case "load" -> {
        pristine = false;
        work.execute(() -> load(f));
      }
      case "start" -> {
        pristine = false;
        work.execute(() -> start(f));
      }
      case "stop" -> work.execute(() -> stop(f));
      case "stats" -> work.execute(() -> outbox.reply(f, ServiceVertx.stats(f.getBoolean("gc", false), loaders, hosts.size())));
      case "exit" -> {
        outbox.reply(f, new JsonObject());
        work.execute(() -> exit(EXIT_ASKED, "asked to exit"));
      }
      default -> outbox.reply(f, new JsonObject().put("error", "unknown op " + op));
    }
  }

  private void load(JsonObject f) {
    String deployment = f.getString("deployment");
    try {
      ServiceHost host = ServiceHost.load(deployment, f);
      hosts.put(deployment, host);
      loaders.add(host.loader());
      outbox.reply(f, new JsonObject().put("entry", host.entry));
    } catch (EntryFinder.LoadFailure e) {
      outbox.reply(f, new JsonObject().put("error", e.getMessage()));
    } catch (RuntimeException | LinkageError e) {
      outbox.reply(f, new JsonObject().put("error", "Cannot load the service: " + e));
    }
  }

  private void start(JsonObject f) {
    String deployment = f.getString("deployment");
    ServiceHost host = hosts.get(deployment);
    if (host == null) {
      outbox.reply(f, new JsonObject().put("error", "Deployment " + deployment + " is not loaded in runner " + id));
      return;
    }
    ServiceVertx.Prepared p;
    try {
      CompletableFuture<ServiceVertx.Prepared> mine = takeSpare();
      // a service waits: the warm-up stops at its next step
      if (!mine.isDone()) serviceWaiting = true;
      p = mine.join();
    } catch (RuntimeException e) {
      outbox.reply(f, new JsonObject().put("error", "The runner could not make a Vert.x for the service: " + e));
      return;
    }
    ports.put(deployment, f.getInteger("port"));
    host.start(p, f, (requested, actual, failure) -> outbox.event(new JsonObject()
        .put("ev", "bound").put("deployment", deployment).put("requested", requested).put("port", actual).put("failure", failure)),
        () -> work.execute(() -> gone(host)))
        .onComplete(ar -> outbox.reply(f, ar.succeeded() ? new JsonObject() : new JsonObject().put("error", host.startFailure(ar.cause()))));
  }

  /**
   * The Vert.x made ahead, for one service alone: starts that arrive together (a shared runner) each
   * get their own. Shared runners keep the next one coming; a process runner hosts only this one.
   */
  private synchronized CompletableFuture<ServiceVertx.Prepared> takeSpare() {
    CompletableFuture<ServiceVertx.Prepared> mine = spare;
    spare = shared ? CompletableFuture.supplyAsync(vertxes::newServiceVertx, work) : CompletableFuture.failedFuture(
        new IllegalStateException("runner " + id + " already hosts a service"));
    return mine;
  }

  private void stop(JsonObject f) {
    String deployment = f.getString("deployment");
    ServiceHost host = hosts.get(deployment);
    List<String> leaks = host == null ? List.of() : host.stop(f.getLong("timeoutMs", 5_000L), output::warn);
    hosts.remove(deployment);
    ports.remove(deployment);
    outbox.reply(f, new JsonObject().put("leaks", new JsonArray(leaks)));
  }

  /** {@code h} stopped serving by itself: it ends its runner (or its slot in a shared one). */
  private void gone(ServiceHost h) {
    if (!hosts.remove(h.deployment, h)) return;
    ports.remove(h.deployment);
    String cause = "The service stopped itself: it undeployed its verticle or closed its Vert.x";
    outbox.event(new JsonObject().put("ev", "gone").put("deployment", h.deployment).put("cause", cause));
    if (!shared) exit(EXIT_GONE, cause);
    else h.stop(1_000, output::warn);
  }

  // ---- orphan timer and exit -----------------------------------------------------------------

  private synchronized void armOrphanTimer() {
    if (orphan != null || exiting.get()) return;
    orphan = timer.schedule(() -> exit(EXIT_ORPHANED, "no control plane for " + orphanGraceMs + " ms"), orphanGraceMs, TimeUnit.MILLISECONDS);
  }

  private synchronized void cancelOrphanTimer() {
    if (orphan != null) orphan.cancel(false);
    orphan = null;
  }

  /** Stops what runs here (briefly), lets the outbox drain a moment, and exits with {@code code}. */
  private void exit(int code, String why) {
    if (!exiting.compareAndSet(false, true)) return;
    output.runner("info", "Runner " + id + " exits: " + why);
    // a service whose stop hangs cannot keep the runner alive
    timer.schedule(() -> Runtime.getRuntime().halt(code), 3, TimeUnit.SECONDS);
    for (ServiceHost h : List.copyOf(hosts.values())) h.stop(1_000, output::warn);
    long until = System.currentTimeMillis() + 500;
    while (!outbox.isEmpty() && outbox.current != null && System.currentTimeMillis() < until) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        break;
      }
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // gone with the runner's dir
    }
    System.exit(code);
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicLong n = new AtomicLong();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      t.setContextClassLoader(Agent.class.getClassLoader());
      return t;
    };
  }
}
