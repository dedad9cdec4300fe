package dev.ferry.runner;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import dev.ferry.common.VertxInternals;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * What an idle runner does before it is given a service: the code paths every service takes
 * (Vert.x start-up, deploying a verticle, accepting a connection, an HTTP exchange, JSON) run
 * once and then a few hundred times, on a throw-away {@code Vertx}, so their classes are loaded
 * and the JIT has seen them when the service's first request arrives; then the way a service is
 * loaded and started (its own classloader and its bytecode rewritten, its entry found, a Vert.x
 * with a port map, the verticle deployed and answering), a few times over, with a probe service
 * made here, so that a deploy or a wake that takes this runner does not pay for that code's first
 * run. The same run, with {@code -XX:ArchiveClassesAtExit}, trains the runner's class-data-sharing
 * archive.
 */
final class Warmup {

  /** Requests sent through the warm-up server: enough for the JIT's first tier to compile the HTTP path. */
  static final int REQUESTS = 300;

  private Warmup() {
  }

  /** A verticle like a service's: an HTTP server answering JSON. */
  public static final class Probe extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.createHttpServer()
          .requestHandler(req -> req.response().putHeader("content-type", "application/json")
              .end(new JsonObject().put("warm", true).put("path", req.path()).encode()))
          .listen(0, "127.0.0.1");
    }
  }

  /** Runs the warm-up; blocks for its length (a few hundred ms on a cold JVM, at most {@code timeoutMs}). */
  static void run(long timeoutMs) throws Exception {
    run(timeoutMs, () -> false);
  }

  /**
   * Runs the warm-up until it is done or {@code enough} says so (a service is waiting for this
   * runner: it stops at its next step, and the service pays for what was not warmed).
   */
  static void run(long timeoutMs, java.util.function.BooleanSupplier enough) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    // the threads the warm-up's Vert.x starts inherit this: what they log is no service's
    Thread self = Thread.currentThread();
    ClassLoader was = self.getContextClassLoader();
    self.setContextClassLoader(THREADS);
    Path jar = probeJar();
    try {
      http(timeoutMs, enough);
      for (int i = 0; i < LOADS && System.currentTimeMillis() < deadline && !enough.getAsBoolean(); i++) {
        loadAndStart(jar, i, Math.max(1, deadline - System.currentTimeMillis()));
      }
    } finally {
      self.setContextClassLoader(was);
      Files.deleteIfExists(jar);
    }
    settle(deadline, enough);
  }

  /**
   * The context loader of the warm-up's threads. A service loaded while the warm-up still runs is
   * the runner's only deployment, and lines of threads of no service go to it: a warning of the
   * warm-up's Vert.x, closing, showed in that service's log as if it were the service's.
   */
  static final ClassLoader THREADS = new ClassLoader("ferry-warmup", Warmup.class.getClassLoader()) { };
  /** The deployment the warm-up's lines name: none the control plane knows, which logs them at debug. */
  static final String NOBODY = "warmup";

  /**
   * Waits until the JIT has compiled what the warm-up queued (its compile time stops growing for
   * {@link #SETTLED_MS}), so that a service given to this runner does not share the CPU with its
   * compiler threads.
   */
  private static void settle(long deadline, java.util.function.BooleanSupplier enough) throws InterruptedException {
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
    long last = jit.getTotalCompilationTime(), quietSince = System.currentTimeMillis();
    while (System.currentTimeMillis() < deadline && !enough.getAsBoolean() && System.currentTimeMillis() - quietSince < SETTLED_MS) {
      Thread.sleep(10);
      long now = jit.getTotalCompilationTime();
      if (now != last) {
        last = now;
        quietSince = System.currentTimeMillis();
      }
    }
  }

  /** How long the JIT must have compiled nothing for the warm-up to end. */
  static final long SETTLED_MS = 50;

  /** Times the probe service is loaded, started, asked and stopped. */
  static final int LOADS = 10;
  private static final String PROBE = "warmup.Probe";

  /**
   * A jar holding one class, made here: {@code warmup.Probe extends VerticleBase}, whose start
   * listens with a Vert.x Web router ({@code vertx.createHttpServer().requestHandler(Router.router(vertx))
   * .listen(0, "127.0.0.1")}): outside Ferry's packages, so it is loaded as a service's own class is.
   */
  private static Path probeJar() throws IOException {
    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
    cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "warmup/Probe", null,
        "io/vertx/core/VerticleBase", null);
    MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
    init.visitCode();
    init.visitVarInsn(Opcodes.ALOAD, 0);
    init.visitMethodInsn(Opcodes.INVOKESPECIAL, "io/vertx/core/VerticleBase", "<init>", "()V", false);
    init.visitInsn(Opcodes.RETURN);
    init.visitMaxs(0, 0);
    init.visitEnd();
    MethodVisitor start = cw.visitMethod(Opcodes.ACC_PUBLIC, "start", "()Lio/vertx/core/Future;",
        "()Lio/vertx/core/Future<*>;", null);
    start.visitCode();
    start.visitVarInsn(Opcodes.ALOAD, 0);
    start.visitFieldInsn(Opcodes.GETFIELD, "io/vertx/core/VerticleBase", "vertx", "Lio/vertx/core/Vertx;");
    start.visitMethodInsn(Opcodes.INVOKEINTERFACE, "io/vertx/core/Vertx", "createHttpServer", "()Lio/vertx/core/http/HttpServer;", true);
    start.visitVarInsn(Opcodes.ALOAD, 0);
    start.visitFieldInsn(Opcodes.GETFIELD, "io/vertx/core/VerticleBase", "vertx", "Lio/vertx/core/Vertx;");
    start.visitMethodInsn(Opcodes.INVOKESTATIC, "io/vertx/ext/web/Router", "router", "(Lio/vertx/core/Vertx;)Lio/vertx/ext/web/Router;", true);
    start.visitMethodInsn(Opcodes.INVOKEINTERFACE, "io/vertx/core/http/HttpServer", "requestHandler",
        "(Lio/vertx/core/Handler;)Lio/vertx/core/http/HttpServer;", true);
    start.visitInsn(Opcodes.ICONST_0);
    start.visitLdcInsn("127.0.0.1");
    start.visitMethodInsn(Opcodes.INVOKEINTERFACE, "io/vertx/core/http/HttpServer", "listen",
        "(ILjava/lang/String;)Lio/vertx/core/Future;", true);
    start.visitInsn(Opcodes.ARETURN);
    start.visitMaxs(0, 0);
    start.visitEnd();
    cw.visitEnd();
    Path jar = Files.createTempFile("warmup-probe", ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("warmup/Probe.class"));
      out.write(cw.toByteArray());
      out.closeEntry();
    }
    return jar;
  }

  /**
   * Loads the probe as a service, starts it on a Vert.x of its own behind a port map, asks it a few
   * times, stops it: through the runner's own load and start, with the frames a control plane sends
   * (the entry named, as for a built artifact, every other time).
   */
  private static void loadAndStart(Path jar, int i, long timeoutMs) throws Exception {
    String deployment = "warmup-" + i;
    ServiceHost host = ServiceHost.load(deployment, new JsonObject().put("op", "load").put("deployment", deployment).put("service", "warmup")
        .put("jars", new io.vertx.core.json.JsonArray().add(jar.toString())).put("entry", i % 2 == 0 ? null : PROBE));
    PortMap map = new PortMap();
    Vertx vertx = VertxInternals.create(new VertxOptions().setEventLoopPoolSize(1), map, null);
    CompletableFuture<Integer> bound = new CompletableFuture<>();
    JsonObject start = new JsonObject().put("op", "start").put("deployment", deployment).put("port", 0).put("routedRequest", null)
        .put("threading", "event-loop").put("config", new JsonObject().put("http.port", 0).put("http.host", "127.0.0.1")
            .put("ferry.service", "warmup").put("ferry.deployment", deployment));
    try {
      host.start(new ServiceVertx.Prepared(vertx, map), start, (requested, actual, failure) -> bound.complete(actual), () -> { })
          .toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
      int port = bound.get(timeoutMs, TimeUnit.MILLISECONDS);
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
      requests(http, port, REQUESTS - 20, () -> false).toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    } finally {
      // a warm-up whose probe does not stop in time failed: the runner says so
      host.stop(timeoutMs, m -> {
        throw new IllegalStateException(m);
      });
    }
  }

  /** The HTTP part of the warm-up: a throw-away Vert.x, a probe verticle, a plain server, a few hundred requests. */
  private static void http(long timeoutMs, java.util.function.BooleanSupplier enough) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    try {
      vertx.deployVerticle(new Probe())
          .compose(id -> vertx.createHttpServer().requestHandler(req -> req.response().putHeader("content-type", "application/json")
              .end(new JsonObject().put("path", req.path()).encode())).listen(0, "127.0.0.1"))
          .compose(server -> {
            NetClient tcp = vertx.createNetClient();
            HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
            return tcp.connect(server.actualPort(), "127.0.0.1").compose(so -> so.close())
                .compose(x -> requests(http, server.actualPort(), 0, enough));
          })
          .timeout(timeoutMs, TimeUnit.MILLISECONDS)
          .toCompletionStage().toCompletableFuture().get();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    }
  }

  /** Request {@code i} and those after it, one after the other, on the event loop. */
  private static Future<Void> requests(HttpClient http, int port, int i, java.util.function.BooleanSupplier enough) {
    if (i == REQUESTS || enough.getAsBoolean()) return Future.succeededFuture();
    return http.request(HttpMethod.GET, port, "127.0.0.1", "/warm/" + i)
        .compose(req -> req.putHeader("X-Forwarded-For", "127.0.0.1").send())
        .compose(resp -> resp.body())
        .compose(body -> requests(http, port, i + 1, enough));
  }
}
