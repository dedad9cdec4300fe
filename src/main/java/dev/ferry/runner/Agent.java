package dev.ferry.runner;

import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import dev.ferry.common.VertxInternals;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
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
 * control plane → runner   {"id":n,"op":"hello","secret":…}   → {"re":n,"runner","pid","deployments":[{deployment,service,port}]}
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

  private static final int MAX_FRAME = 8 * 1024 * 1024;
  private static final long WARMUP_TIMEOUT_MS = 10_000;
  private static final int OUTBOX = 10_000;
  private static final int BACKLOG = 1_000;

  private final String id;
  private final Path socket;
  private final byte[] secretDigest;
  private final long orphanGraceMs;
  private final boolean shared;
  private final int eventLoops;
  private final Map<String, ServiceHost> hosts = new ConcurrentHashMap<>();
  private final Map<String, Integer> ports = new ConcurrentHashMap<>();
  private final Set<ServiceClassLoader> loaders = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private final BlockingQueue<JsonObject> outbox = new ArrayBlockingQueue<>(OUTBOX);
  private final AtomicLong dropped = new AtomicLong();
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
  private volatile SocketChannel current;
  private ScheduledFuture<?> orphan;
  private CompletableFuture<Prepared> spare;
  private Output output;
  private Vertx runnerVertx;
  /** A service is waiting for the Vert.x the warm-up ends with. */
  private volatile boolean serviceWaiting;
  /** How long a service's worker thread may stay unused before it ends. */
  static final long IDLE_THREAD_SECONDS = 30;

  /** A Vert.x made ahead for the next service, and the port map it binds through. */
  private record Prepared(Vertx vertx, PortMap ports) {
  }

  Agent(String id, Path socket, String secret, long orphanGraceMs, boolean shared, int eventLoops) {
    this.id = id;
    this.socket = socket;
    this.secretDigest = sha256(secret);
    this.orphanGraceMs = orphanGraceMs;
    this.shared = shared;
    this.eventLoops = eventLoops;
  }

  /** Binds the socket and serves until the runner exits. */
  void serve() throws IOException {
    output = Output.install(this::line, () -> hosts.size() == 1 ? hosts.keySet().iterator().next() : null);
    Files.deleteIfExists(socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    Thread sender = daemon("ferry-runner-send").newThread(this::send);
    sender.start();
    armOrphanTimer();
    spare = CompletableFuture.supplyAsync(this::prepare, work);
    timer.scheduleWithFixedDelay(this::watch, 500, 500, TimeUnit.MILLISECONDS);
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
  private Prepared prepare() {
    try {
      Warmup.run(WARMUP_TIMEOUT_MS, () -> serviceWaiting);
    } catch (Exception e) {
      output.runner("warn", "Warm-up failed: " + e);
    }
    Prepared p = newServiceVertx();
    // the control plane prefers a warm runner for the next service
    event(new JsonObject().put("ev", "warm"));
    return p;
  }

  /**
   * A Vert.x of its own for the next service. Its worker threads end after {@link #IDLE_THREAD_SECONDS}
   * unused. In a shared runner it runs on the runner's event loops (see {@link #runnerVertx}): an
   * idle service holds no thread.
   */
  private Prepared newServiceVertx() {
    PortMap map = shared ? new PortMap(VertxInternals.eventLoops(runnerVertx()), VertxInternals.acceptorLoops(runnerVertx())) : new PortMap();
    Vertx vertx = VertxInternals.create(new VertxOptions().setEventLoopPoolSize(eventLoops), map, Agent::shrinkingPool);
    // its loops are the runner's, watched by the runner's own checker: its own would be a thread per service
    if (shared) VertxInternals.closeBlockedThreadChecker(vertx);
    return new Prepared(vertx, map);
  }

  /** A worker pool whose threads are started when needed and end when idle: an idle service keeps none. */
  private static java.util.concurrent.ExecutorService shrinkingPool(java.util.concurrent.ThreadFactory factory, Integer concurrency,
                                                                    Integer max) {
    int n = max == null || max <= 0 ? 20 : max;
    java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(n, n, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
        new java.util.concurrent.LinkedBlockingQueue<>(), factory);
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * The shared runner's own Vert.x: its event loops and acceptor are the ones every service of the
   * runner runs on, and its checker reports a blocked loop in the log of the deployment whose code
   * blocked it.
   */
  private synchronized Vertx runnerVertx() {
    if (runnerVertx == null) {
      runnerVertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(eventLoops))
          .withTransport(io.vertx.core.transport.Transport.NIO).build();
      VertxInternals.onBlockedThread(runnerVertx, (t, d, max, stack) -> output.blocked(t, d, max, stack));
      // started now, from the runner's code: a thread started lazily under a service's code would keep
      // that service's classloader as its context loader, and alive, for as long as the runner runs
      for (io.netty.util.concurrent.EventExecutor loop : VertxInternals.eventLoops(runnerVertx)) loop.submit(() -> { }).syncUninterruptibly();
      for (io.netty.util.concurrent.EventExecutor loop : VertxInternals.acceptorLoops(runnerVertx)) loop.submit(() -> { }).syncUninterruptibly();
    }
    return runnerVertx;
  }

  // ---- the connection ------------------------------------------------------------------------

  private void connection(SocketChannel ch) {
    Frames in = new Frames(ch);
    ScheduledFuture<?> deadline = timer.schedule(() -> closeQuietly(ch), 5, TimeUnit.SECONDS);
    try {
      JsonObject hello = in.next();
      deadline.cancel(false);
      if (hello == null || !"hello".equals(hello.getString("op")) || !MessageDigest.isEqual(sha256(hello.getString("secret", "")), secretDigest)) {
        closeQuietly(ch);
        return;
      }
      SocketChannel old = current;
      current = ch;
      if (old != null) closeQuietly(old);
      cancelOrphanTimer();
      reply(hello, helloAnswer());
      JsonObject frame;
      while ((frame = in.next()) != null) dispatch(frame);
    } catch (IOException | RuntimeException e) {
      // the control plane went away or spoke nonsense: wait for the next one
    } finally {
      closeQuietly(ch);
      if (current == ch) {
        current = null;
        armOrphanTimer();
      }
    }
  }

  private JsonObject helloAnswer() {
    JsonArray ds = new JsonArray();
    hosts.values().forEach(h -> ds.add(new JsonObject().put("deployment", h.deployment).put("service", h.service)
        .put("port", ports.get(h.deployment))));
    return new JsonObject().put("runner", id).put("pid", ProcessHandle.current().pid()).put("deployments", ds);
  }

  private void dispatch(JsonObject f) {
    String op = f.getString("op", "");
    switch (op) {
      case "hello" -> reply(f, helloAnswer());
      case "load" -> work.execute(() -> load(f));
      case "start" -> work.execute(() -> start(f));
      case "stop" -> work.execute(() -> stop(f));
      case "stats" -> work.execute(() -> reply(f, stats(f.getBoolean("gc", false))));
      case "exit" -> {
        reply(f, new JsonObject());
        work.execute(() -> exit(EXIT_ASKED, "asked to exit"));
      }
      default -> reply(f, new JsonObject().put("error", "unknown op " + op));
    }
  }

  private void load(JsonObject f) {
    String deployment = f.getString("deployment");
    try {
      List<Path> jars = f.getJsonArray("jars").stream().map(o -> Path.of((String) o)).toList();
      ServiceHost host = ServiceHost.load(deployment, f.getString("service"), jars, Optional.ofNullable(f.getString("entry")));
      hosts.put(deployment, host);
      loaders.add(host.loader());
      reply(f, new JsonObject().put("entry", host.entry));
    } catch (EntryFinder.LoadFailure e) {
      reply(f, new JsonObject().put("error", e.getMessage()));
    } catch (RuntimeException | LinkageError e) {
      reply(f, new JsonObject().put("error", "Cannot load the service: " + e));
    }
  }

  private void start(JsonObject f) {
    String deployment = f.getString("deployment");
    ServiceHost host = hosts.get(deployment);
    if (host == null) {
      reply(f, new JsonObject().put("error", "Deployment " + deployment + " is not loaded in runner " + id));
      return;
    }
    Prepared p;
    try {
      CompletableFuture<Prepared> mine = takeSpare();
      // a service waits: the warm-up stops at its next step
      if (!mine.isDone()) serviceWaiting = true;
      p = mine.join();
    } catch (RuntimeException e) {
      reply(f, new JsonObject().put("error", "The runner could not make a Vert.x for the service: " + e));
      return;
    }
    int port = f.getInteger("port");
    ports.put(deployment, port);
    p.ports().assign(port, f.getInteger("routedRequest"), (requested, actual, failure) -> event(new JsonObject()
        .put("ev", "bound").put("deployment", deployment).put("requested", requested).put("port", actual).put("failure", failure)));
    ThreadingModel threading = "worker".equals(f.getString("threading")) ? ThreadingModel.WORKER : ThreadingModel.EVENT_LOOP;
    host.start(p.vertx(), f.getJsonObject("config", new JsonObject()), threading).onComplete(ar -> reply(f, ar.succeeded()
        ? new JsonObject() : new JsonObject().put("error", startFailure(host, ar.cause()))));
  }

  /**
   * The Vert.x made ahead, for one service alone: starts that arrive together (a shared runner) each
   * get their own. Shared runners keep the next one coming; a process runner hosts only this one.
   */
  private synchronized CompletableFuture<Prepared> takeSpare() {
    CompletableFuture<Prepared> mine = spare;
    spare = shared ? CompletableFuture.supplyAsync(this::newServiceVertx, work) : CompletableFuture.failedFuture(
        new IllegalStateException("runner " + id + " already hosts a service"));
    return mine;
  }

  private static String startFailure(ServiceHost host, Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String what = root == e ? e.toString() : e + " (caused by " + root + ")";
    return "The verticle " + host.entry + " failed to start: " + what;
  }

  private void stop(JsonObject f) {
    String deployment = f.getString("deployment");
    ServiceHost host = hosts.get(deployment);
    List<String> leaks = host == null ? List.of() : host.stop(f.getLong("timeoutMs", 5_000L));
    hosts.remove(deployment);
    ports.remove(deployment);
    reply(f, new JsonObject().put("leaks", new JsonArray(leaks)));
  }

  private JsonObject stats(boolean gc) {
    if (gc) {
      for (int i = 0; i < 5; i++) {
        System.gc();
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    Runtime rt = Runtime.getRuntime();
    List<ServiceClassLoader> alive;
    synchronized (loaders) {
      alive = List.copyOf(loaders);
    }
    // which threads still have a live service loader as their context loader (what keeps it, usually)
    JsonObject holders = new JsonObject();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getContextClassLoader() instanceof ServiceClassLoader s && alive.contains(s)) {
        holders.put(t.getName(), s.service() + " " + s.deployment());
      }
    }
    JsonArray names = new JsonArray();
    alive.forEach(l -> names.add(l.service() + " " + l.deployment()));
    return new JsonObject().put("loaders", alive.size()).put("alive", names).put("heldBy", holders).put("hosts", hosts.size())
        .put("threads", Thread.activeCount()).put("heapUsed", rt.totalMemory() - rt.freeMemory());
  }

  /** Every half second: a service that stopped serving by itself ends its runner (or its slot in a shared one). */
  private void watch() {
    for (ServiceHost h : List.copyOf(hosts.values())) {
      if (!h.gone()) continue;
      hosts.remove(h.deployment);
      ports.remove(h.deployment);
      String cause = "The service stopped itself: it undeployed its verticle or closed its Vert.x";
      event(new JsonObject().put("ev", "gone").put("deployment", h.deployment).put("cause", cause));
      if (!shared) work.execute(() -> exit(EXIT_GONE, cause));
      else work.execute(() -> h.stop(1_000));
    }
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
    for (ServiceHost h : List.copyOf(hosts.values())) h.stop(1_000);
    long until = System.currentTimeMillis() + 500;
    while (!outbox.isEmpty() && current != null && System.currentTimeMillis() < until) {
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

  // ---- sending -------------------------------------------------------------------------------

  private void line(String deployment, String level, String stage, String message) {
    event(new JsonObject().put("ev", "log").put("deployment", deployment).put("level", level).put("stage", stage).put("message", message));
  }

  /** Queues an event; when the control plane reads too slowly, events are dropped (and counted). */
  private void event(JsonObject e) {
    if (!outbox.offer(e)) dropped.incrementAndGet();
  }

  private void reply(JsonObject request, JsonObject answer) {
    answer.put("re", request.getValue("id"));
    try {
      outbox.put(answer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The sender thread: writes queued frames to the connected control plane; keeps recent log lines while none is. */
  private void send() {
    ArrayDeque<JsonObject> backlog = new ArrayDeque<>();
    while (true) {
      JsonObject frame;
      try {
        frame = outbox.take();
      } catch (InterruptedException e) {
        return;
      }
      long lost = dropped.getAndSet(0);
      SocketChannel ch = current;
      if (ch == null) {
        if (!frame.containsKey("re")) {
          if (backlog.size() >= BACKLOG) backlog.poll();
          backlog.add(frame);
        }
        continue;
      }
      try {
        while (!backlog.isEmpty()) write(ch, backlog.poll());
        if (lost > 0) {
          write(ch, new JsonObject().put("ev", "log").put("level", "warn").put("stage", "runner")
              .put("message", lost + " lines dropped: the service writes faster than the platform reads"));
        }
        write(ch, frame);
      } catch (IOException e) {
        closeQuietly(ch);
      }
    }
  }

  private static void write(SocketChannel ch, JsonObject frame) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap((frame.encode() + "\n").getBytes(StandardCharsets.UTF_8));
    while (buf.hasRemaining()) ch.write(buf);
  }

  /** Reads one JSON object per line from a blocking channel. */
  private static final class Frames {
    private final SocketChannel ch;
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    Frames(SocketChannel ch) {
      this.ch = ch;
      buf.flip();
    }

    /** The next frame, or null at the end of the stream. */
    JsonObject next() throws IOException {
      while (true) {
        while (buf.hasRemaining()) {
          byte b = buf.get();
          if (b == '\n') {
            String s = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (!s.isBlank()) return new JsonObject(s);
          } else {
            if (line.size() >= MAX_FRAME) throw new IOException("frame too long");
            line.write(b);
          }
        }
        buf.clear();
        int n = ch.read(buf);
        buf.flip();
        if (n < 0) return null;
      }
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // already closed
    }
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
