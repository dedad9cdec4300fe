package dev.ferry;

import dev.ferry.deployment.SqliteLedger;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A platform killed with SIGKILL and started again on its data dir serves what it served, from the ledger. */
class RestartTest {

  private static final Set<String> FINAL = Set.of("deployed", "error", "stopped", "deleted");

  /** {@code ferry server} in a child JVM, on fixed loopback ports and a data dir. */
  static final class Child implements AutoCloseable {
    final Process process;
    final int apiPort;
    final int proxyPort;
    final WebClient http;
    /** The token the server generated into its data dir on the first start (none is configured). */
    final String token;

    Child(Path dataDir, int apiPort, int proxyPort, Path log, WebClient http) throws IOException {
      this(dataDir, apiPort, proxyPort, log, http, Map.of());
    }

    /** {@code env}: variables added to the server's environment. */
    Child(Path dataDir, int apiPort, int proxyPort, Path log, WebClient http, Map<String, String> env) throws IOException {
      this.apiPort = apiPort;
      this.proxyPort = proxyPort;
      this.http = http;
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "dev.ferry.Main", "server",
          "--host", "127.0.0.1", "--api-port", String.valueOf(apiPort), "--proxy-port", String.valueOf(proxyPort),
          "--data-dir", dataDir.toString());
      builder.environment().putAll(env);
      process = builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          if (http.get(apiPort, "127.0.0.1", "/health").send().await().statusCode() == 200) break;
        } catch (Exception notYet) {
          if (!process.isAlive()) throw new AssertionError("ferry server exited: " + Files.readString(log));
          if (System.nanoTime() > deadline) throw new AssertionError("ferry server did not come up: " + Files.readString(log));
          TestPlatform.sleep(50);
        }
      }
      token = Files.readString(dataDir.resolve("token")).trim();
    }

    JsonObject get(String path) {
      return http.get(apiPort, "127.0.0.1", path).bearerTokenAuthentication(token).send().await().bodyAsJsonObject();
    }

    JsonObject deploy(String fixture, String service) throws IOException {
      HttpResponse<Buffer> r = http.post(apiPort, "127.0.0.1", "/api/v1/services/" + service + "/deployments")
          .bearerTokenAuthentication(token).putHeader("content-type", "application/gzip")
          .sendBuffer(Buffer.buffer(Files.readAllBytes(TestPlatform.pack(fixture)))).await();
      assertEquals(202, r.statusCode(), r.bodyAsString());
      String id = r.bodyAsJsonObject().getString("id");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        JsonObject d = get("/api/v1/deployments/" + id);
        if (FINAL.contains(d.getString("state"))) return d;
        TestPlatform.sleep(25);
      }
      throw new AssertionError("deployment " + id + " did not finish");
    }

    /** The deployment id {@code service} answers with through the proxy, or null if it does not answer. */
    String answeringId(String service) {
      try {
        HttpResponse<Buffer> r = http.get(proxyPort, "127.0.0.1", "/").putHeader("Host", service + ".localhost").send().await();
        return r.statusCode() == 200 ? r.bodyAsJsonObject().getString("deployment") : null;
      } catch (Exception e) {
        return null;
      }
    }

    void kill() throws InterruptedException {
      process.destroyForcibly();
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    }

    @Override
    public void close() throws InterruptedException {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
      }
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void after_sigkill_and_start_on_the_same_data_dir_every_service_answers_with_its_id_and_history() throws Exception {
    Path dir = Files.createTempDirectory("ferry-restart");
    Path data = dir.resolve("data");
    Path log = dir.resolve("server.log");
    int api = freePort();
    int proxy = freePort();
    Vertx vertx = Vertx.vertx();
    WebClient http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
    Child second = null;
    try {
      Map<String, String> ids = new LinkedHashMap<>();
      Map<String, JsonArray> histories = new LinkedHashMap<>();
      String firstToken;
      try (Child first = new Child(data, api, proxy, log, http)) {
        first.deploy("hello", "alpha");
        ids.put("alpha", first.deploy("hello", "alpha").getString("id"));
        ids.put("beta", first.deploy("hello", "beta").getString("id"));
        ids.put("gamma", first.deploy("slow-ready", "gamma").getString("id"));
        for (var e : ids.entrySet()) {
          assertEquals(e.getValue(), first.answeringId(e.getKey()));
          histories.put(e.getKey(), first.get("/api/v1/services/" + e.getKey() + "/deployments").getJsonArray("deployments"));
        }
        assertEquals(2, histories.get("alpha").size());
        firstToken = first.token;
        first.kill();
      }

      second = new Child(data, api, proxy, log, http);
      assertEquals(firstToken, second.token, "the generated API token is kept across restarts");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<String> answering = new ArrayList<>();
      while (System.nanoTime() < deadline) {
        answering.clear();
        for (var e : ids.entrySet()) {
          if (e.getValue().equals(second.answeringId(e.getKey()))) answering.add(e.getKey());
        }
        if (answering.size() == ids.size()) break;
        TestPlatform.sleep(50);
      }
      assertEquals(List.copyOf(ids.keySet()), answering, "services answering with their ids after the restart");
      for (var e : ids.entrySet()) {
        JsonArray before = histories.get(e.getKey());
        JsonArray after = second.get("/api/v1/services/" + e.getKey() + "/deployments").getJsonArray("deployments");
        assertEquals(before.stream().map(d -> ((JsonObject) d).getString("id")).toList(),
            after.stream().map(d -> ((JsonObject) d).getString("id")).toList());
        JsonObject current = after.getJsonObject(0);
        assertEquals("deployed", current.getString("state"));
        // activated from the stored artifact: the same jar, reactivated, nothing rebuilt
        assertEquals(before.getJsonObject(0).getJsonObject("artifact"), current.getJsonObject("artifact"));
        assertTrue(current.getJsonObject("timeline").containsKey("reactivated"), current.encodePrettily());
        assertEquals(e.getValue(), second.get("/api/v1/services/" + e.getKey()).getJsonObject("current").getString("id"));
      }
      assertEquals("stopped", second.get("/api/v1/services/alpha/deployments").getJsonArray("deployments").getJsonObject(1).getString("state"));
      // the slow-ready service kept its readiness path: it answers only once ready
      HttpResponse<Buffer> gamma = http.get(proxy, "127.0.0.1", "/").putHeader("Host", "gamma.localhost").send().await();
      assertTrue(gamma.bodyAsJsonObject().getBoolean("ready"), gamma.bodyAsString());
    } finally {
      if (second != null) second.close();
      http.close();
      vertx.close().await();
      TestPlatform.deleteTree(dir);
    }
  }

  @Test
  void deployments_caught_mid_way_are_marked_interrupted_by_restart() throws Exception {
    Path data = Files.createTempDirectory("ferry-interrupted");
    Instant t = Instant.now().minusSeconds(60);
    Files.createDirectories(new DataDir(data).uploads());
    Files.writeString(new DataDir(data).upload("000000001aaaa"), "half an upload");
    try (SqliteLedger ledger = SqliteLedger.open(new DataDir(data).ledger())) {
      ledger.record(new JsonObject().put("id", "000000001aaaa").put("service", "web").put("state", "queued")
          .put("createdAt", t.toString()).put("updatedAt", t.toString()).put("timeline", new JsonObject().put("queued", t.toString())));
      ledger.record(new JsonObject().put("id", "000000002bbbb").put("service", "api").put("state", "built")
          .put("createdAt", t.toString()).put("updatedAt", t.toString())
          .put("timeline", new JsonObject().put("queued", t.toString()).put("built", t.toString()))
          .put("artifact", new JsonObject().put("path", data.resolve("artifacts/api/000000002bbbb.jar").toString()).put("sha256", "x")));
    }
    try (TestPlatform ferry = TestPlatform.start(c -> c.setDataDir(data))) {
      ferry.platform.restored().await();
      JsonObject web = ferry.awaitFinal("000000001aaaa");
      assertEquals("error", web.getString("state"));
      assertEquals("interrupted by restart", web.getString("error"));
      assertEquals("build", web.getString("stage"));
      JsonObject api = ferry.awaitFinal("000000002bbbb");
      assertEquals("error", api.getString("state"));
      assertEquals("load", api.getString("stage"));
      assertFalse(Files.exists(new DataDir(data).upload("000000001aaaa")));
    } finally {
      TestPlatform.deleteTree(data);
    }
  }
}
