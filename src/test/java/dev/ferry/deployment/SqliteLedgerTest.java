package dev.ferry.deployment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SQLite ledger on a real file: schema, history, durability across reopening, atomic writes. */
class SqliteLedgerTest {

  Path dir;
  Path file;

  @BeforeEach
  void setUp() throws Exception {
    dir = Files.createTempDirectory("ferry-ledger");
    file = dir.resolve("ledger.db");
  }

  @AfterEach
  void tearDown() throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static JsonObject event(String id, String service, String state, Instant at) {
    JsonObject timeline = new JsonObject().put("queued", at.toString());
    if (!state.equals("queued")) timeline.put(state, at.plusMillis(5).toString());
    JsonObject e = new JsonObject().put("id", id).put("service", service).put("state", state)
        .put("createdAt", at.toString()).put("updatedAt", at.plusMillis(5).toString()).put("timeline", timeline);
    if (state.equals("deployed")) {
      e.put("url", "http://" + service + ".localhost:8080/").put("port", 4242)
          .put("artifact", new JsonObject().put("sha256", "abc").put("path", "/d/artifacts/" + service + "/" + id + ".jar")
              .put("entry", "x.Main").put("dependencies", new JsonArray().add("/d/deps/a.jar")).put("sourceHash", "src1")
              .put("readinessPath", "/ready"));
    }
    if (state.equals("error")) e.put("stage", "build").put("error", "boom");
    return e;
  }

  @Test
  void migrations_run_once_in_wal_mode_and_data_survives_reopening() throws Exception {
    Instant t = Instant.parse("2026-01-01T10:00:00.123Z");
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      assertEquals(SqliteLedger.MIGRATIONS.size(), ledger.schemaVersion());
      ledger.record(event("000000001aaaa", "web", "queued", t));
      ledger.record(event("000000001aaaa", "web", "deployed", t));
      ledger.appendLog(new JsonObject().put("deployment", "000000001aaaa").put("ts", t.toString()).put("level", "info")
          .put("stage", "build").put("message", "compiled"));
    }
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      assertEquals(SqliteLedger.MIGRATIONS.size(), ledger.schemaVersion());
      JsonObject d = ledger.deployment("000000001aaaa").orElseThrow();
      assertEquals("deployed", d.getString("state"));
      assertEquals("2026-01-01T10:00:00.123Z", d.getString("createdAt"));
      assertEquals("http://web.localhost:8080/", d.getString("url"));
      JsonObject a = d.getJsonObject("artifact");
      assertEquals(Artifact.fromJson(a), Artifact.fromJson(event("000000001aaaa", "web", "deployed", t).getJsonObject("artifact")));
      assertEquals(List.of("queued", "deployed"), List.copyOf(d.getJsonObject("timeline").fieldNames()));
      assertEquals("compiled", ledger.logs("000000001aaaa").get(0).getString("message"));
      assertEquals("000000001aaaa", ledger.service("web").orElseThrow().getJsonObject("current").getString("id"));
      assertEquals(1, ledger.builtFrom("src1").size());
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
         ResultSet rs = c.createStatement().executeQuery("PRAGMA journal_mode")) {
      rs.next();
      assertEquals("wal", rs.getString(1));
      ResultSet v = c.createStatement().executeQuery("SELECT count(*) FROM schema_version");
      v.next();
      assertEquals(SqliteLedger.MIGRATIONS.size(), v.getInt(1));
    }
  }

  @Test
  void a_deleted_service_keeps_its_history_and_a_new_deployment_brings_it_back() {
    Instant t = Instant.parse("2026-01-01T10:00:00Z");
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      ledger.record(event("000000001aaaa", "web", "deployed", t));
      ledger.record(new JsonObject().put("service", "web").put("state", "deleted").put("updatedAt", t.plusSeconds(1).toString()));
      assertTrue(ledger.service("web").isEmpty());
      assertTrue(ledger.services().isEmpty());
      assertEquals(1, ledger.deployments("web").size());
      ledger.record(event("000000002bbbb", "web", "queued", t.plusSeconds(2)));
      assertEquals("000000002bbbb", ledger.service("web").orElseThrow().getJsonObject("latest").getString("id"));
      assertEquals(List.of("000000002bbbb", "000000001aaaa"), ledger.deployments("web").stream().map(d -> d.getString("id")).toList());
      assertEquals(List.of("000000002bbbb"), ledger.inState(java.util.EnumSet.of(StateName.QUEUED, StateName.BUILT)).stream().map(d -> d.getString("id")).toList());
    }
  }

  @Test
  void a_write_that_fails_half_way_leaves_nothing_behind() throws Exception {
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      // the service row is written first; the deployment row then breaks a NOT NULL constraint
      JsonObject broken = event("000000001aaaa", "ghost", "queued", Instant.now());
      broken.remove("createdAt");
      assertThrows(IllegalStateException.class, () -> ledger.record(broken));
      assertTrue(ledger.deployment("000000001aaaa").isEmpty());
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
         ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM services WHERE name = 'ghost'")) {
      rs.next();
      assertEquals(0, rs.getInt(1));
    }
  }

  @Test
  void a_ledger_that_cannot_be_opened_says_where() throws Exception {
    Files.createDirectories(file);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> SqliteLedger.open(file));
    assertTrue(e.getMessage().contains("Cannot open the ledger " + file), e.getMessage());
  }

  @Test
  void migration_files_split_into_statements() {
    assertEquals(List.of("CREATE TABLE a (x TEXT);", "CREATE INDEX i ON a (x);"),
        SqliteLedger.statements("-- comment\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a (x);\n"));
    assertFalse(SqliteLedger.statements("").iterator().hasNext());
  }
}
