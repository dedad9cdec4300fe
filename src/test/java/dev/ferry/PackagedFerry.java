package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ferry server} in a JVM of its own whose classpath is exactly what the build ships:
 * {@code target/classes} and the jars in {@code target/lib} (filled by the {@code copy-runtime-dependencies}
 * execution before the tests run), not the test classpath. A library the shipped build lacks fails here.
 */
final class PackagedFerry implements AutoCloseable {

  private static final Pattern UP = Pattern.compile("Ferry is up: API http://[^:]+:(\\d+) .*proxy http://\\S+:(\\d+)");
  private static final Set<String> FINAL = Set.of("deployed", "error", "stopped", "deleted");

  final Path dataDir;
  final int apiPort;
  final int proxyPort;
  private final Process process;
  private final List<String> output;
  private final WebClient http;

  private PackagedFerry(Vertx vertx, Path dataDir, Process process, List<String> output, int apiPort, int proxyPort) {
    this.dataDir = dataDir;
    this.process = process;
    this.output = output;
    this.apiPort = apiPort;
    this.proxyPort = proxyPort;
    this.http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setKeepAlive(false));
  }

  /** The shipped classpath: {@code target/classes} then every jar of {@code target/lib}. */
  static String classpath() {
    Path lib = Path.of("target", "lib");
    List<String> entries = new ArrayList<>(List.of(Path.of("target", "classes").toAbsolutePath().toString()));
    try (Stream<Path> jars = Files.list(lib)) {
      jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toAbsolutePath().toString()));
    } catch (IOException e) {
      throw new IllegalStateException("No " + lib + ": run the tests with mvn, whose copy-runtime-dependencies execution fills it", e);
    }
    return String.join(java.io.File.pathSeparator, entries);
  }

  /**
   * Starts {@code ferry server} on free loopback ports with {@code config} as its config file,
   * {@code env} added to an environment without {@code FERRY_*} variables, and {@code jvmArgs}.
   */
  static PackagedFerry start(Vertx vertx, JsonObject config, Map<String, String> env, List<String> jvmArgs) throws Exception {
    Path dataDir = Files.createTempDirectory("ferry-packaged");
    Path configFile = dataDir.resolve("ferry-test.json");
    Files.writeString(configFile, config.encodePrettily());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m"));
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", classpath(), "dev.ferry.Main", "server", "--config", configFile.toString(),
        "--api-port", "0", "--proxy-port", "0", "--data-dir", dataDir.resolve("data").toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("FERRY_"));
    pb.environment().put("FERRY_TOKEN", TestPlatform.TOKEN);
    if (!TestPlatform.SANDBOX) pb.environment().put("FERRY_SANDBOX", "none");
    pb.environment().putAll(env);
    Process p = pb.start();
    List<String> output = new CopyOnWriteArrayList<>();
    CompletableFuture<Matcher> up = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          output.add(line);
          Matcher m = UP.matcher(line);
          if (m.find()) up.complete(m);
        }
      } catch (IOException e) {
        // the process ended
      }
      up.completeExceptionally(new AssertionError("ferry server exited before it was up:\n" + String.join("\n", output)));
    }, "packaged-ferry-output");
    reader.setDaemon(true);
    reader.start();
    try {
      Matcher m = up.get(90, TimeUnit.SECONDS);
      return new PackagedFerry(vertx, dataDir, p, output, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    } catch (Exception e) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      TestPlatform.deleteTree(dataDir);
      throw e;
    }
  }

  /** Uploads {@code serviceDir} (a service tree) as {@code service} and waits for its final state. */
  JsonObject deploy(Path serviceDir, String service) {
    try {
      Buffer body = Buffer.buffer(Files.readAllBytes(TestPlatform.packDir(serviceDir)));
      HttpResponse<Buffer> r = http.post(apiPort, "127.0.0.1", "/api/v1/services/" + service + "/deployments")
          .putHeader("Authorization", "Bearer " + TestPlatform.TOKEN).putHeader("Content-Type", "application/gzip")
          .sendBuffer(body).await();
      if (r.statusCode() != 202) throw new AssertionError("upload answered " + r.statusCode() + ": " + r.bodyAsString());
      return awaitFinal(r.bodyAsJsonObject().getString("id"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private JsonObject awaitFinal(String id) {
    // a platform in another process: no event bus here to wait on, so its API is polled
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject d = http.get(apiPort, "127.0.0.1", "/api/v1/deployments/" + id)
          .putHeader("Authorization", "Bearer " + TestPlatform.TOKEN).send().await().bodyAsJsonObject();
      if (FINAL.contains(d.getString("state"))) return d;
      TestPlatform.sleep(50);
    }
    throw new AssertionError("deployment " + id + " did not finish in 120 s; server output:\n" + tail());
  }

  /** The deployment's log messages at {@code stage}. */
  List<String> log(JsonObject deployment, String stage) {
    String ndjson = http.get(apiPort, "127.0.0.1", "/api/v1/deployments/" + deployment.getString("id") + "/logs")
        .putHeader("Authorization", "Bearer " + TestPlatform.TOKEN).send().await().bodyAsString();
    return ndjson.lines().filter(l -> !l.isBlank()).map(JsonObject::new)
        .filter(l -> stage.equals(l.getString("stage"))).map(l -> l.getString("message")).toList();
  }

  /** GET {@code path} through the proxy as {@code <service>.localhost}. */
  HttpResponse<Buffer> viaProxy(String service, String path) {
    return http.get(proxyPort, "127.0.0.1", path).putHeader("Host", service + ".localhost:" + proxyPort).send().await();
  }

  /** The server's last lines of output, for failure messages. */
  String tail() {
    return String.join("\n", output.subList(Math.max(0, output.size() - 60), output.size()));
  }

  @Override
  public void close() {
    http.close();
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      TestPlatform.deleteTree(dataDir);
    }
  }
}
