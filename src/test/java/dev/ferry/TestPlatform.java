package dev.ferry;

import dev.ferry.cli.Archives;
import dev.ferry.deployment.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real platform for tests: its own Vert.x, API and proxy on free loopback ports, a temporary data
 * dir, and helpers that pack fixture services from {@code src/test/resources/services/} into real
 * tar.gz archives, talk to it over HTTP and wait for the state changes it publishes. Close it to stop
 * everything and delete the data dir; or register it as a JUnit extension ({@link #with}).
 */
public final class TestPlatform implements AutoCloseable, BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

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

  private final UnaryOperator<Config> tweak;
  /** What {@code ferry.events} carried since the first start, restarts included. */
  public final PlatformEvents events = new PlatformEvents();
  // set by each start (a platform registered as an extension starts before its class's tests)
  public Vertx vertx;
  public Platform platform;
  /** Sends {@code Authorization: Bearer TOKEN} with every request. */
  public WebClient http;
  /** Sends no token: for the public routes, the proxy and the refusals. */
  public WebClient anonymous;
  /** A temporary directory, the platform's data dir unless {@code tweak} names another; deleted on close. */
  public Path dataDir;
  /** Registered per test method (a non-static field): started before each test, closed after it. */
  private boolean perTest;

  private TestPlatform(UnaryOperator<Config> tweak) {
    this.tweak = tweak;
  }

  /**
   * A platform for a test class, started before its {@code @BeforeAll} methods and closed after
   * its {@code @AfterAll} ones: {@code @RegisterExtension static final TestPlatform ferry =
   * TestPlatform.with(c -> ...)} ({@code tweak} may change the config before it starts). On an
   * instance field, one per test method.
   */
  public static TestPlatform with(UnaryOperator<Config> tweak) {
    return new TestPlatform(tweak);
  }

  /** {@link #with} the test defaults. */
  public static TestPlatform defaults() {
    return with(c -> c);
  }

  public static TestPlatform start() {
    return start(c -> c);
  }

  /** Starts a platform now; {@code tweak} may change the config before it starts. Close it. */
  public static TestPlatform start(UnaryOperator<Config> tweak) {
    TestPlatform t = new TestPlatform(tweak);
    try {
      t.open();
    } catch (RuntimeException | Error e) {
      t.close();
      throw e;
    }
    return t;
  }

  private void open() {
    if (dataDir == null) dataDir = tempDir("ferry-test");
    Config config = Config.DEFAULTS.with("host", "127.0.0.1").with("api.port", 0).with("proxy.port", 0).with("dataDir", dataDir)
        .with("run.startTimeoutMs", 10_000).with("run.drainTimeoutMs", 2_000).with("token", TOKEN)
        // one runner jar and class-data-sharing archive for the whole suite, made by the first platform
        .with("run.cacheDir", RUNNER_CACHE).with("run.orphanGraceMs", 20_000);
    if (!SANDBOX) config = config.with("run.sandbox", "none");
    config = tweak.apply(config);
    vertx = Platform.newVertx();
    // before the platform starts: the events of its restore are recorded too
    events.listen(vertx);
    platform = Platform.start(vertx, config).await();
    anonymous = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setKeepAlive(false));
    http = WebClientSession.create(anonymous).addHeader("Authorization", "Bearer " + TOKEN);
  }

  /** Stops the platform and starts it again on the same config and data dir (its events stay). */
  public void restart() {
    shutdown();
    open();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    open();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (platform != null) return; // a class's platform, already started
    perTest = true;
    open();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (perTest) close();
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

  /** Waits until a deployment reaches a final state; returns it as the API answers then. */
  public JsonObject awaitFinal(String id) {
    JsonObject d = awaitRecorded(id, FINAL::contains, Duration.ofSeconds(60));
    if (!FINAL.contains(d.getString("state"))) {
      throw new AssertionError("deployment " + id + " did not finish in 60 s: " + events.states(id));
    }
    return d;
  }

  /** POSTs a rollback of {@code service} to {@code deploymentId} (null: an empty body, the previous one). */
  public HttpResponse<Buffer> rollback(String service, String deploymentId) {
    var req = http.post(apiPort(), "127.0.0.1", "/api/v1/services/" + service + "/rollback");
    return (deploymentId == null ? req.send() : req.sendJsonObject(new JsonObject().put("deployment", deploymentId))).await();
  }

  /**
   * Waits until a deployment is in {@code state} (now, or within 30 s: a replaced one is stopped only
   * after its drain); returns it as the API answers then, in that state or not.
   */
  public JsonObject awaitState(String id, String state) {
    return awaitRecorded(id, state::equals, Duration.ofSeconds(30));
  }

  /**
   * Deployment {@code id} as the API answers once its state is {@code wanted}, or as it is after
   * {@code timeout}. The API stays the truth; each event about the deployment says when to read it again.
   */
  private JsonObject awaitRecorded(String id, Predicate<String> wanted, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      int mark = events.mark();
      // an event that arrived before the mark is in the ledger once the recorder answers this barrier
      vertx.eventBus().request(Addresses.FLUSH, null).await();
      JsonObject d = api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject();
      if (d == null || wanted.test(d.getString("state"))) return d;
      long left = deadline - System.nanoTime();
      if (left <= 0) return api(HttpMethod.GET, "/api/v1/deployments/" + id).bodyAsJsonObject();
      // woken by the next event about it; read again after a second at the latest, in case an event
      // this wait missed (seen stalling a run for the whole timeout, rarely, not understood yet)
      events.awaitAfter(mark, id, Duration.ofNanos(Math.min(left, Duration.ofSeconds(1).toNanos())));
    }
  }

  /** Waits until exactly {@code n} deployments have a runner (a replaced one is stopped after its drain). */
  public void awaitRunning(int n) {
    // a runner is counted or let go before the state change that says so is published
    if (!events.until(() -> platform.runtime().runningCount() == n, Duration.ofSeconds(30))) {
      throw new AssertionError("running: " + platform.runtime().runningCount() + ", wanted " + n);
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
      shutdown();
    } finally {
      deleteTree(dataDir);
      dataDir = null;
    }
  }

  private void shutdown() {
    if (platform != null) platform.close().await();
    if (anonymous != null) anonymous.close();
    if (vertx != null) vertx.close().await();
    platform = null;
    anonymous = null;
    http = null;
    vertx = null;
  }

  /** A new temporary directory (for a test class's fields: no checked exception). */
  public static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A loopback port free now. */
  public static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits until process {@code pid} has ended (or was not there); false if it still runs after {@code timeout}. */
  public static boolean awaitExit(long pid, Duration timeout) {
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    if (process.isEmpty()) return true;
    try {
      process.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) return;
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
