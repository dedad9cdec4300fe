package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code @Postgres} on the platform's own, embedded PostgreSQL (a real server, started on first
 * need): a service with vertx-pg-client keeps its rows through redeploys, rollbacks and a delete
 * without purge; two services get databases the other cannot open; passwords stay out of sight.
 */
@Tag("platform")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresResourcesTest {

  // before the platform: its start is captured too
  static final LogCapture logs = LogCapture.ofAll();
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("maven.remoteRepositories", List.of(FileRepository.mavenLocalRepositoryUrl())));

  @AfterAll
  static void stop() {
    logs.close();
  }

  static HttpResponse<Buffer> post(String service, String path) {
    return ferry.http.post(ferry.proxyPort(), "127.0.0.1", path).putHeader("Host", service + ".localhost").send().await();
  }

  static JsonObject notes(String service) {
    HttpResponse<Buffer> r = ferry.viaProxy(service, "/notes");
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  static List<String> logLines(String id) {
    String ndjson = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
    return ndjson.lines().map(l -> new JsonObject(l).getString("message")).toList();
  }

  /** The pg-notes fixture with its version edited from v1 to {@code version}. */
  static Path edited(String version) throws IOException {
    Path dir = Files.createTempDirectory("pg-notes-" + version);
    Path from = TestPlatform.FIXTURES.resolve("pg-notes");
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = dir.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(t);
        else Files.writeString(t, Files.readString(p).replace("\"v1\"", "\"" + version + "\""));
      }
    }
    return dir;
  }

  static JsonObject deployDir(Path dir, String service) {
    HttpResponse<Buffer> r = ferry.upload(service, TestPlatform.packDir(dir));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return ferry.awaitFinal(r.bodyAsJsonObject().getString("id"));
  }

  @Test
  @Order(1)
  void rows_outlive_redeploys_rollbacks_and_a_delete_without_purge() throws IOException {
    JsonObject v1 = ferry.deploy("pg-notes", "notes");
    assertEquals("deployed", v1.getString("state"), v1.encodePrettily());
    List<String> log = logLines(v1.getString("id"));
    // the first deployment that needs a database starts the server, and says so as it goes
    for (String step : List.of("Starting the embedded PostgreSQL", "Unpacking the PostgreSQL binaries", "Creating the PostgreSQL cluster",
        "The embedded PostgreSQL is up on 127.0.0.1:")) {
      assertTrue(log.stream().anyMatch(l -> l.startsWith(step)), step + " in " + log);
    }
    assertTrue(log.stream().anyMatch(l -> l.contains("declares @Postgres(\"notes\")")), log.toString());
    assertTrue(log.stream().anyMatch(l -> l.startsWith("Database notes: created ")), log.toString());
    assertEquals(201, post("notes", "/notes?text=first").statusCode());
    assertEquals(List.of("first"), notes("notes").getJsonArray("notes").getList());

    // an edited version, built and deployed: same database, same rows
    Path v2dir = edited("v2");
    try {
      JsonObject v2 = deployDir(v2dir, "notes");
      assertEquals("deployed", v2.getString("state"), v2.encodePrettily());
      assertTrue(logLines(v2.getString("id")).stream().anyMatch(l -> l.startsWith("Database notes: notes_notes_")),
          "the second deployment finds the database: " + logLines(v2.getString("id")));
      JsonObject seen = notes("notes");
      assertEquals("v2", seen.getString("version"));
      assertEquals(List.of("first"), seen.getJsonArray("notes").getList());
      assertEquals(201, post("notes", "/notes?text=second").statusCode());

      // back to v1, not rebuilt: both rows
      var back = ferry.rollback("notes", v1.getString("id"));
      assertEquals(202, back.statusCode());
      assertEquals("deployed", ferry.awaitFinal(back.bodyAsJsonObject().getString("id")).getString("state"));
      seen = notes("notes");
      assertEquals("v1", seen.getString("version"));
      assertEquals(List.of("first", "second"), seen.getJsonArray("notes").getList());
    } finally {
      TestPlatform.deleteTree(v2dir);
    }

    // listed without the password unless revealed
    JsonObject res = ferry.api(HttpMethod.GET, "/api/v1/services/notes/resources").bodyAsJsonObject();
    JsonObject db = res.getJsonArray("databases").getJsonObject(0);
    assertEquals("notes", db.getString("name"));
    assertEquals(notes("notes").getString("database"), db.getString("database"));
    assertNull(db.getString("password"), res.encode());
    assertFalse(db.getString("uri").contains(":" + "@"), db.getString("uri"));
    JsonObject revealed = ferry.api(HttpMethod.GET, "/api/v1/services/notes/resources?reveal=true").bodyAsJsonObject()
        .getJsonArray("databases").getJsonObject(0);
    String password = revealed.getString("password");
    assertTrue(password.length() >= 24, revealed.encode());
    assertTrue(revealed.getString("uri").contains(":" + password + "@"));
    assertEquals(400, ferry.api(HttpMethod.GET, "/api/v1/services/notes/resources?reveal=maybe").statusCode());

    // deleted, not purged: a new deployment of the name finds the rows
    HttpResponse<Buffer> deleted = ferry.api(HttpMethod.DELETE, "/api/v1/services/notes");
    assertEquals(200, deleted.statusCode(), deleted.bodyAsString());
    assertNull(deleted.bodyAsJsonObject().getValue("purged"));
    assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/notes/resources").statusCode(), "kept after the delete");
    assertEquals("deployed", ferry.deploy("pg-notes", "notes").getString("state"));
    assertEquals(List.of("first", "second"), notes("notes").getJsonArray("notes").getList());

    // the password is in no answer but the revealing one, in no log, and nowhere on disk in the clear
    for (String path : List.of("/api/v1/services", "/api/v1/services/notes", "/api/v1/services/notes/deployments",
        "/api/v1/services/notes/resources", "/api/v1/deployments/" + v1.getString("id"),
        "/api/v1/deployments/" + v1.getString("id") + "/logs", "/metrics")) {
      assertFalse(ferry.api(HttpMethod.GET, path).bodyAsString().contains(password), path);
    }
    assertEquals(0, logs.count(null, password), "platform log");
    assertEquals(List.of(), filesContaining(ferry.dataDir, password));

    // purged: the database is dropped; the name starts afresh
    HttpResponse<Buffer> purged = ferry.api(HttpMethod.DELETE, "/api/v1/services/notes?purge=true");
    assertEquals(200, purged.statusCode(), purged.bodyAsString());
    assertEquals(new JsonArray().add("notes"), purged.bodyAsJsonObject().getJsonObject("purged").getJsonArray("databases"));
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/notes/resources").statusCode());
    assertEquals("deployed", ferry.deploy("pg-notes", "notes").getString("state"));
    assertEquals(List.of(), notes("notes").getJsonArray("notes").getList());
    // a service deleted without purge can be purged later; then nothing is left of it
    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/notes").statusCode());
    HttpResponse<Buffer> late = ferry.api(HttpMethod.DELETE, "/api/v1/services/notes?purge=true");
    assertEquals(200, late.statusCode(), late.bodyAsString());
    assertEquals(new JsonArray().add("notes"), late.bodyAsJsonObject().getJsonObject("purged").getJsonArray("databases"));
    assertEquals(404, ferry.api(HttpMethod.DELETE, "/api/v1/services/notes?purge=true").statusCode());
    assertEquals(400, ferry.api(HttpMethod.DELETE, "/api/v1/services/notes?purge=yes").statusCode());
  }

  @Test
  @Order(2)
  void two_services_declaring_the_same_name_get_databases_the_other_cannot_open() {
    assertEquals("deployed", ferry.deploy("pg-notes", "alpha").getString("state"));
    assertEquals("deployed", ferry.deploy("pg-notes", "beta").getString("state"));
    String alphaDb = notes("alpha").getString("database"), betaDb = notes("beta").getString("database");
    assertNotEquals(alphaDb, betaDb);
    assertEquals(201, post("alpha", "/notes?text=alpha-only").statusCode());
    assertEquals(List.of(), notes("beta").getJsonArray("notes").getList());

    // alpha's credentials, beta's database: refused by the server
    JsonObject peek = ferry.viaProxy("alpha", "/peek?database=" + betaDb).bodyAsJsonObject();
    assertFalse(peek.getBoolean("connected"), peek.encode());
    assertTrue(peek.getString("error").contains("permission denied"), peek.encode());
    // nor the platform's own databases; its own, yes
    assertFalse(ferry.viaProxy("alpha", "/peek?database=postgres").bodyAsJsonObject().getBoolean("connected"));
    assertTrue(ferry.viaProxy("alpha", "/peek?database=" + alphaDb).bodyAsJsonObject().getBoolean("connected"));
  }

  @Test
  @Order(3)
  void a_server_that_dies_is_started_again_and_services_get_their_rows_back() throws Exception {
    assertEquals("deployed", ferry.deploy("pg-notes", "survivor").getString("state"));
    assertEquals(201, post("survivor", "/notes?text=kept").statusCode());
    Path pidFile = ferry.platform.dataDir().postgres().resolve("data/postmaster.pid");
    long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    Process kill = new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).start();
    assertEquals(0, kill.waitFor());
    assertTrue(PostgresRestartTest.gone(pid, 30));

    // the supervisor starts it again; the service's pool connects anew
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    HttpResponse<Buffer> r;
    do {
      TestPlatform.sleep(200);
      r = ferry.viaProxy("survivor", "/notes");
    } while (r.statusCode() != 200 && System.nanoTime() < deadline);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals(List.of("kept"), r.bodyAsJsonObject().getJsonArray("notes").getList());
    assertTrue(logs.count(null, "The embedded PostgreSQL stopped") > 0, "the restart is logged");
    assertEquals("deployed", ferry.deploy("pg-notes", "after-the-crash").getString("state"));
  }

  /** Files under {@code dir} whose bytes contain {@code text}. */
  static List<Path> filesContaining(Path dir, String text) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).filter(f -> {
        try {
          return indexOf(Files.readAllBytes(f), needle) >= 0;
        } catch (IOException gone) {
          return false;
        }
      }).toList();
    }
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }
}
