package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A platform whose service keeps rows in the embedded PostgreSQL is killed with SIGKILL: its
 * server stops with it (cleanly), and the platform started again on the data dir serves the same
 * rows; a clean stop of the platform stops the server.
 */
@Tag("platform")
class PostgresRestartTest {

  @Test
  void after_sigkill_the_server_stops_and_the_restarted_platform_serves_the_same_rows() throws Exception {
    // the data dir straight under the temp dir: as root the server runs as nobody, who must pass through its parent
    Path data = Files.createTempDirectory("ferry-pg-restart");
    Path log = Files.createTempFile("ferry-pg-restart", ".log");
    Path pidFile = data.resolve("postgres/data/postmaster.pid");
    Map<String, String> env = Map.of("FERRY_MAVEN_REMOTE_REPOSITORIES", FileRepository.mavenLocalRepositoryUrl());
    int api = RestartTest.freePort(), proxy = RestartTest.freePort();
    Vertx vertx = Vertx.vertx();
    WebClient http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
    RestartTest.Child second = null;
    try {
      String id;
      long serverPid;
      try (RestartTest.Child first = new RestartTest.Child(data, api, proxy, log, http, env)) {
        JsonObject d = first.deploy("pg-notes", "notes");
        assertEquals("deployed", d.getString("state"), d.encodePrettily() + Files.readString(log));
        id = d.getString("id");
        HttpResponse<Buffer> posted = http.post(proxy, "127.0.0.1", "/notes?text=before-the-kill").putHeader("Host", "notes.localhost")
            .send().await();
        assertEquals(201, posted.statusCode(), posted.bodyAsString());
        serverPid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        assertTrue(ProcessHandle.of(serverPid).isPresent());
        first.kill();
      }
      // the server got SIGINT when the platform died: a fast, clean shutdown, no orphan
      assertTrue(gone(serverPid, 30), "PostgreSQL " + serverPid + " outlived the killed platform");

      second = new RestartTest.Child(data, api, proxy, log, http, env);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!id.equals(second.answeringId("notes")) && System.nanoTime() < deadline) TestPlatform.sleep(50);
      assertEquals(id, second.answeringId("notes"), Files.readString(log));
      JsonObject notes = http.get(proxy, "127.0.0.1", "/notes").putHeader("Host", "notes.localhost").send().await().bodyAsJsonObject();
      assertEquals(List.of("before-the-kill"), notes.getJsonArray("notes").getList());
      long restarted = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());

      second.close();
      assertTrue(gone(restarted, 30), "PostgreSQL outlived the platform's clean stop");
      assertFalse(Files.exists(pidFile), "a clean shutdown removes postmaster.pid");
    } finally {
      if (second != null) second.close();
      http.close();
      vertx.close().await();
      TestPlatform.deleteTree(data);
      Files.deleteIfExists(log);
    }
  }

  static boolean gone(long pid, int seconds) {
    return TestPlatform.awaitExit(pid, Duration.ofSeconds(seconds));
  }
}
