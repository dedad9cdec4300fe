package dev.ferry.bench;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code ferry server} in a JVM of its own, as {@code scripts/ferry server} runs it (the packaged
 * {@code target/ferry.jar} and its {@code lib/}, from the class-data-sharing archive
 * {@code target/ferry.jsa}; its runners are its children), on fixed loopback ports, a data dir and
 * a config: what the data-path, idle-cost and restart figures are measured against, so that the
 * platform's CPU is its own and a SIGKILL kills only it.
 */
final class ChildPlatform implements AutoCloseable {

  static final String TOKEN = "bench-token";
  static final Path JAR = Path.of("target", "ferry.jar").toAbsolutePath();
  static final Path ARCHIVE = Path.of("target", "ferry.jsa").toAbsolutePath();

  final Path dataDir;
  final Path config;
  final Path log;
  final int apiPort;
  final int proxyPort;
  private final WebClient http;
  Process process;

  private ChildPlatform(Path dataDir, Path config, Path log, int apiPort, int proxyPort, WebClient http) {
    this.dataDir = dataDir;
    this.config = config;
    this.log = log;
    this.apiPort = apiPort;
    this.proxyPort = proxyPort;
    this.http = http;
  }

  /** A platform on {@code dir}/data with {@code run} as its config's run section, started. */
  static ChildPlatform start(Path dir, JsonObject run, WebClient http) throws IOException {
    Path config = config(dir, run);
    ChildPlatform p = new ChildPlatform(dir.resolve("data"), config, dir.resolve("server.log"), freePort(), freePort(), http);
    p.launch();
    return p;
  }

  /** Where the runners' jar and class-data-sharing archive are kept: one for the whole bench. */
  static final Path RUNNER_CACHE = Path.of("target", "runner-cache").toAbsolutePath();

  /** {@code dir}/ferry.json: the bench's token, the shared runner cache, and {@code run}'s settings. */
  private static Path config(Path dir, JsonObject run) throws IOException {
    Path config = dir.resolve("ferry.json");
    Files.writeString(config, new JsonObject().put("token", TOKEN)
        .put("run", new JsonObject().put("cacheDir", RUNNER_CACHE.toString()).mergeIn(run)).encode());
    return config;
  }

  /** Starts the server (again, on the same data dir and ports); returns once {@code /health} answers. */
  void launch() throws IOException {
    long t0 = spawn();
    long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      try {
        if (http.get(apiPort, "127.0.0.1", "/health").timeout(2_000).send().await().statusCode() == 200) break;
      } catch (Exception notYet) {
        if (!process.isAlive()) throw new IllegalStateException("ferry server exited: " + tail());
        if (System.nanoTime() > deadline) throw new IllegalStateException("ferry server did not come up: " + tail());
        sleep(20);
      }
    }
  }

  /** Starts the server's JVM (again, on the same data dir and ports) and returns at once: the launch's {@link System#nanoTime}. */
  long spawn() throws IOException {
    List<String> cmd = java();
    cmd.addAll(List.of("-jar", JAR.toString(), "server",
        "--host", "127.0.0.1", "--api-port", String.valueOf(apiPort), "--proxy-port", String.valueOf(proxyPort),
        "--data-dir", dataDir.toString(), "--config", config.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("FERRY_LOG_LEVEL", System.getenv().getOrDefault("FERRY_LOG_LEVEL", "WARN"));
    long t0 = System.nanoTime();
    process = pb.start();
    return t0;
  }

  /** {@code java} with the archive (as scripts/ferry uses it) and {@code BENCH_PLATFORM_JAVA_OPTS}. */
  private static List<String> java() {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    if (Files.isRegularFile(ARCHIVE)) cmd.addAll(List.of("-XX:SharedArchiveFile=" + ARCHIVE, "-Xlog:cds=off", "-Xlog:cds+dynamic=off"));
    String opts = System.getenv("BENCH_PLATFORM_JAVA_OPTS");
    if (opts != null && !opts.isBlank()) cmd.addAll(List.of(opts.trim().split("\\s+")));
    return cmd;
  }

  /**
   * Makes {@code target/ferry.jsa} as scripts/ferry does (a first server run that exits cleanly),
   * unless it is newer than the jar: a server started, asked once for its health, stopped.
   */
  static void makeArchive(Path dir, WebClient http) throws IOException, InterruptedException {
    if (Files.isRegularFile(ARCHIVE) && Files.getLastModifiedTime(ARCHIVE).compareTo(Files.getLastModifiedTime(JAR)) > 0) return;
    Files.deleteIfExists(ARCHIVE);
    int api = freePort();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:ArchiveClassesAtExit=" + ARCHIVE, "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar", JAR.toString(), "server",
        "--host", "127.0.0.1", "--api-port", String.valueOf(api), "--proxy-port", String.valueOf(freePort()),
        "--data-dir", dir.resolve("data").toString(), "--config", config(dir, new JsonObject()).toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("train.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try {
        if (http.get(api, "127.0.0.1", "/health").send().await().statusCode() == 200) break;
      } catch (Exception notYet) {
        sleep(50);
      }
    }
    p.destroy();
    if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
  }

  long pid() {
    return process.pid();
  }

  /** Runner processes of this platform now (its children). */
  List<ProcessHandle> runners() {
    return process.children().filter(ProcessHandle::isAlive).toList();
  }

  /** The pids of its runners' process trees (in the sandbox, bubblewrap and the JVM under it). */
  List<Long> runnerTree() {
    return Procs.tree(runners().stream().map(ProcessHandle::pid).toList());
  }

  /** Uploads {@code archive} as {@code service} and waits until it is deployed; the deployment's JSON. */
  JsonObject deploy(String service, Buffer archive) {
    HttpResponse<Buffer> r = http.post(apiPort, "127.0.0.1", "/api/v1/services/" + service + "/deployments")
        .bearerTokenAuthentication(TOKEN).putHeader("content-type", "application/gzip").sendBuffer(archive).await();
    if (r.statusCode() != 202) throw new IllegalStateException("upload of " + service + " answered " + r.statusCode() + ": " + r.bodyAsString());
    String id = r.bodyAsJsonObject().getString("id");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      JsonObject d = get("/api/v1/deployments/" + id);
      String state = d.getString("state");
      if ("deployed".equals(state)) return d;
      if ("error".equals(state) || "stopped".equals(state) || "deleted".equals(state)) {
        throw new IllegalStateException(service + " ended " + state + ": " + d.encode());
      }
      sleep(20);
    }
    throw new IllegalStateException(service + " was not deployed within 120 s");
  }

  JsonObject get(String path) {
    return http.get(apiPort, "127.0.0.1", path).bearerTokenAuthentication(TOKEN).send().await().bodyAsJsonObject();
  }

  /** The status code {@code service} answers {@code GET /} with through the proxy (-1: no answer). */
  int status(String service) {
    try {
      return http.get(proxyPort, "127.0.0.1", "/").putHeader("Host", service + ".localhost").timeout(30_000).send().await().statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
  }

  private String tail() {
    try {
      String s = Files.readString(log, StandardCharsets.UTF_8);
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return "";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
