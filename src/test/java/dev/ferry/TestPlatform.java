package dev.ferry;

import dev.ferry.cli.Archives;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real platform for tests: its own Vert.x, API and proxy on free loopback ports, a temporary data
 * dir, and helpers that pack fixture services from {@code src/test/resources/services/} into real
 * tar.gz archives and talk to it over HTTP. Close it to stop everything and delete the data dir.
 */
public final class TestPlatform implements AutoCloseable {

  public static final Path FIXTURES = Path.of("src/test/resources/services");
  private static final Set<String> FINAL = Set.of("deployed", "error", "stopped", "deleted");
  /** The API token every test platform is started with, unless a test's tweak changes it. */
  public static final String TOKEN = "test-token-0123456789";
  /** Where every test platform keeps the runner jar and its class-data-sharing archive. */
  public static final Path RUNNER_CACHE = Path.of("target", "runner-cache").toAbsolutePath();
  /**
   * Whether test platforms run services sandboxed (bubblewrap is installed, as CI's .ci/run makes
   * sure); where it is not, they run them unsandboxed and the sandbox's own tests are skipped.
   */
  public static final boolean SANDBOX = sandboxAvailable();

  private static boolean sandboxAvailable() {
    boolean installed = dev.ferry.sandbox.Sandbox.bwrapInstalled();
    if (!installed) {
      org.slf4j.LoggerFactory.getLogger(TestPlatform.class).warn("bubblewrap (bwrap) is not installed: test platforms run services "
          + "unsandboxed (run.sandbox none), and the tests of the sandbox itself are skipped");
    }
    return installed;
  }

  public final Vertx vertx;
  public final Platform platform;
  /** Sends {@code Authorization: Bearer TOKEN} with every request. */
  public final WebClient http;
  /** Sends no token: for the public routes, the proxy and the refusals. */
  public final WebClient anonymous;
  public final Path dataDir;

  private TestPlatform(Vertx vertx, Platform platform, Path dataDir) {
    this.vertx = vertx;
    this.platform = platform;
    this.dataDir = dataDir;
    this.anonymous = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setKeepAlive(false));
    this.http = WebClientSession.create(anonymous).addHeader("Authorization", "Bearer " + TOKEN);
  }

  public static TestPlatform start() {
    return start(c -> c);
  }

  /** Starts a platform on the config {@code tweak} makes of the tests' (say {@code c -> c.with("run.memoryMb", 128)}). */
  public static TestPlatform start(UnaryOperator<Config> tweak) {
    try {
      Path dir = Files.createTempDirectory("ferry-test");
      Config config = Config.DEFAULTS.with("host", "127.0.0.1").with("api.port", 0).with("proxy.port", 0).with("dataDir", dir)
          .with("run.startTimeoutMs", 10_000).with("run.drainTimeoutMs", 2_000).with("token", TOKEN)
          // one runner jar and class-data-sharing archive for the whole suite, made by the first platform
          .with("run.cacheDir", RUNNER_CACHE).with("run.orphanGraceMs", 20_000);
      if (!SANDBOX) config = config.with("run.sandbox", "none");
      config = tweak.apply(config);
      Vertx vertx = Platform.newVertx();
      Platform p = Platform.start(vertx, config).await();
      return new TestPlatform(vertx, p, dir);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Packs fixture {@code fixture} into a tar.gz in the temp dir. */
  public static Path pack(String fixture) {
    try {
      Path out = Files.createTempFile("fixture-" + fixture.replace('/', '-'), ".tar.gz");
      out.toFile().deleteOnExit();
      Archives.pack(FIXTURES.resolve(fixture), out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** POSTs {@code archive} as service {@code service}; returns the response. */
  public HttpResponse<Buffer> upload(String service, Path archive) {
    try {
      return upload(service, Buffer.buffer(Files.readAllBytes(archive)), "application/gzip");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<Buffer> upload(String service, Buffer body, String contentType) {
    var req = http.post(apiPort(), "127.0.0.1", "/api/v1/services/" + service + "/deployments");
    if (contentType != null) req.putHeader("content-type", contentType);
    return req.sendBuffer(body).await();
  }

  /** Uploads fixture {@code fixture} as {@code service}, waits for its final state, returns it. */
  public JsonObject deploy(String fixture, String service) {
    HttpResponse<Buffer> r = upload(service, pack(fixture));
    if (r.statusCode() != 202) throw new AssertionError("upload answered " + r.statusCode() + ": " + r.bodyAsString());
    return awaitFinal(r.bodyAsJsonObject().getString("id"));
  }

  /** Polls a deployment until it reaches a final state. */
  public JsonObject awaitFinal(String id) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject d = api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject();
      if (FINAL.contains(d.getString("state"))) return d;
      sleep(25);
    }
    throw new AssertionError("deployment " + id + " did not finish in 60 s");
  }

  /** POSTs a rollback of {@code service} to {@code deploymentId} (null: an empty body, the previous one). */
  public HttpResponse<Buffer> rollback(String service, String deploymentId) {
    var req = http.post(apiPort(), "127.0.0.1", "/api/v1/services/" + service + "/rollback");
    return (deploymentId == null ? req.send() : req.sendJsonObject(new JsonObject().put("deployment", deploymentId))).await();
  }

  /** Polls a deployment until it is in {@code state} (a replaced one is stopped only after its drain). */
  public JsonObject awaitState(String id, String state) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonObject d;
    do {
      d = api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject();
      if (state.equals(d.getString("state"))) return d;
      sleep(20);
    } while (System.nanoTime() < deadline);
    return d;
  }

  /** Waits until exactly {@code n} deployments have a runner (a replaced one is stopped after its drain). */
  public void awaitRunning(int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (platform.runtime().runningCount() != n) {
      if (System.nanoTime() > deadline) throw new AssertionError("running: " + platform.runtime().runningCount() + ", wanted " + n);
      sleep(20);
    }
  }

  /** Packs {@code dir} (any service tree) into a tar.gz in the temp dir. */
  public static Path packDir(Path dir) {
    try {
      Path out = Files.createTempFile("service", ".tar.gz");
      out.toFile().deleteOnExit();
      Archives.pack(dir, out);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<Buffer> api(HttpMethod method, String path) {
    return http.request(method, apiPort(), "127.0.0.1", path).send().await();
  }

  /** GET {@code path} through the proxy with {@code Host: <service>.localhost}. */
  public HttpResponse<Buffer> viaProxy(String service, String path) {
    return http.get(proxyPort(), "127.0.0.1", path).putHeader("Host", service + ".localhost:" + proxyPort()).send().await();
  }

  /**
   * The host pid of the runner JVM serving {@code service}'s current deployment, or -1 (a sandboxed
   * service sees only its pid inside its own namespace).
   */
  public long runnerPid(String service) {
    JsonObject s = api(HttpMethod.GET, "/api/v1/services/" + service).bodyAsJsonObject();
    JsonObject current = s == null ? null : s.getJsonObject("current");
    if (current == null) return -1;
    return platform.runtime().runnerOf(current.getString("id")).map(dev.ferry.run.Runner::pid).orElse(-1L);
  }

  public int apiPort() {
    return platform.apiPort();
  }

  public int proxyPort() {
    return platform.proxyPort();
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      platform.close().await();
      anonymous.close();
      vertx.close().await();
    } finally {
      deleteTree(dataDir);
    }
  }

  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Not a future-returning helper: waits for {@code f} from a test thread. */
  public static <T> T await(Future<T> f) {
    return f.await();
  }
}
