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
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
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

  private static DeploymentRow row(String id, String service, String state, Instant at) {
    return DeploymentRow.fromJson(event(id, service, state, at));
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
      assertEquals(LedgerMigrations.MIGRATIONS.size(), ledger.schemaVersion());
      ledger.writer().record(row("000000001aaaa", "web", "queued", t));
      ledger.writer().record(row("000000001aaaa", "web", "deployed", t));
      ledger.writer().append(new LogLine("000000001aaaa", t, DeploymentLog.Level.INFO, "build", "compiled"));
    }
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      LedgerReader reader = ledger.reader();
      assertEquals(LedgerMigrations.MIGRATIONS.size(), ledger.schemaVersion());
      DeploymentRow d = reader.deployment("000000001aaaa").orElseThrow();
      assertEquals("deployed", d.state());
      assertEquals(t, d.createdAt());
      assertEquals("http://web.localhost:8080/", d.url());
      assertEquals(4242, d.port());
      assertEquals(Artifact.fromJson(event("000000001aaaa", "web", "deployed", t).getJsonObject("artifact")), d.artifact());
      assertEquals(List.of("queued", "deployed"), List.copyOf(d.timeline().keySet()));
      assertEquals(new LogLine("000000001aaaa", t, DeploymentLog.Level.INFO, "build", "compiled"), reader.logs("000000001aaaa").get(0));
      assertEquals("000000001aaaa", reader.service("web").orElseThrow().current().id());
      assertEquals(1, reader.builtFrom("src1").size());
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
         ResultSet rs = c.createStatement().executeQuery("PRAGMA journal_mode")) {
      rs.next();
      assertEquals("wal", rs.getString(1));
      ResultSet v = c.createStatement().executeQuery("SELECT count(*) FROM schema_version");
      v.next();
      assertEquals(LedgerMigrations.MIGRATIONS.size(), v.getInt(1));
    }
  }

  @Test
  void a_deployments_lines_of_one_stage_are_read_alone_oldest_first() throws Exception {
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      ledger.writer().record(row("000000001aaaa", "web", "deployed", t));
      ledger.writer().append(new LogLine("000000001aaaa", t, DeploymentLog.Level.ERROR, "crash", "first"));
      for (int i = 0; i < 50; i++) {
        ledger.writer().append(new LogLine("000000001aaaa", t.plusSeconds(i), DeploymentLog.Level.INFO, "restart", "adopted " + i));
      }
      ledger.writer().append(new LogLine("000000001aaaa", t.plusSeconds(60), DeploymentLog.Level.ERROR, "crash", "second"));
      ledger.writer().append(new LogLine("000000002bbbb", t.plusSeconds(61), DeploymentLog.Level.ERROR, "crash", "another's"));
      List<LogLine> crashes = ledger.reader().logs("000000001aaaa", "crash");
      assertEquals(List.of("first", "second"), crashes.stream().map(LogLine::message).toList());
      assertEquals(52, ledger.reader().logs("000000001aaaa").size());
    }
  }

  @Test
  void a_deleted_service_keeps_its_history_and_a_new_deployment_brings_it_back() {
    Instant t = Instant.parse("2026-01-01T10:00:00Z");
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      LedgerWriter writer = ledger.writer();
      LedgerReader reader = ledger.reader();
      writer.record(row("000000001aaaa", "web", "deployed", t));
      writer.deleted("web", t.plusSeconds(1));
      assertTrue(reader.service("web").isEmpty());
      assertTrue(reader.services().isEmpty());
      assertEquals(1, reader.deployments("web").size());
      writer.record(row("000000002bbbb", "web", "queued", t.plusSeconds(2)));
      ServiceRow web = reader.service("web").orElseThrow();
      assertEquals("000000002bbbb", web.latest().id());
      assertEquals(List.of("000000002bbbb", "000000001aaaa"), reader.deployments("web").stream().map(DeploymentRow::id).toList());
      assertEquals(List.of("000000002bbbb"), reader.inState(java.util.EnumSet.of(StateName.QUEUED, StateName.BUILT)).stream().map(DeploymentRow::id).toList());
      // the API's JSON keeps fixed-width timestamps, as the ledger stores them
      assertEquals("2026-01-01T10:00:02.000Z", web.toJson().getJsonObject("latest").getString("createdAt"));
    }
  }

  @Test
  void a_write_that_fails_half_way_leaves_nothing_behind() throws Exception {
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      // the service row is written first; the deployment row then breaks a NOT NULL constraint
      JsonObject broken = event("000000001aaaa", "ghost", "queued", Instant.now());
      broken.remove("createdAt");
      assertThrows(IllegalStateException.class, () -> ledger.writer().record(DeploymentRow.fromJson(broken)));
      assertTrue(ledger.reader().deployment("000000001aaaa").isEmpty());
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
         ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM services WHERE name = 'ghost'")) {
      rs.next();
      assertEquals(0, rs.getInt(1));
    }
  }

  @Test
  void a_read_is_answered_while_a_write_transaction_is_open() throws Exception {
    Instant t = Instant.parse("2026-01-01T10:00:00.123Z");
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      SqliteWriter writer = (SqliteWriter) ledger.writer();
      writer.record(row("000000001aaaa", "web", "deployed", t));
      writer.transaction(() -> {
        // written, not committed: the writer's connection and lock are held until this returns
        SqliteWriter.update(writer.connection(), "UPDATE deployments SET state = 'stopped' WHERE id = ?", "000000001aaaa");
        DeploymentRow read = assertTimeoutPreemptively(Duration.ofSeconds(2),
            () -> ledger.reader().deployment("000000001aaaa").orElseThrow());
        // the last commit, not the write under way
        assertEquals("deployed", read.state());
      });
      assertEquals("stopped", ledger.reader().deployment("000000001aaaa").orElseThrow().state());
    }
  }

  @Test
  void the_reader_cannot_write() {
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      assertThrows(java.sql.SQLException.class, () -> SqliteWriter.update(((SqliteReader) ledger.reader()).connection(),
          "INSERT INTO services (name, created_at) VALUES ('x', 'y')"));
    }
  }

  /** Deployments as {@code ferry.events} publishes them: what the API answers from the ledger is the same JSON. */
  @Test
  void a_deployment_read_back_is_the_json_that_was_published() {
    Instant t = Instant.parse("2026-01-01T10:00:00.123Z");
    Artifact artifact = new Artifact(dir.resolve("web.jar"), List.of(dir.resolve("dep.jar")), "abc", java.util.Optional.of("x.Main"),
        "src1", "/ready", new RunSettings(java.util.Optional.of("process"), java.util.OptionalInt.of(256), java.util.OptionalInt.empty()));
    Deployment built = new Deployment("000000001aaaa", "web", t, t, new DeploymentState.Built(artifact), artifact,
        java.util.Map.of("queued", t.minusMillis(7), "built", t), null);
    List<DeploymentState> states = List.of(new DeploymentState.Deployed(4242), new DeploymentState.Sleeping(4242),
        new DeploymentState.Failed("load", "boom"), new DeploymentState.Crashed(List.of("exit 1", "exit 2")), new DeploymentState.Stopped());
    try (SqliteLedger ledger = SqliteLedger.open(file)) {
      for (DeploymentState state : states) {
        // a rollback's deployment names its source; the others none
        Deployment d = new Deployment(built.id(), built.service(), t, t.plusMillis(11), state, artifact,
            java.util.Map.of("queued", t.minusMillis(7), "built", t, state.name(), t.plusMillis(11)),
            state instanceof DeploymentState.Stopped ? "000000000zzzz" : null);
        JsonObject published = d.toJson("http://web.localhost:8080/");
        ledger.writer().record(DeploymentRow.fromJson(published));
        assertEquals(published, ledger.reader().deployment(d.id()).orElseThrow().toJson(), state.name());
      }
      ledger.writer().record(DeploymentRow.fromJson(built.toJson(null)));
      JsonObject queued = new Deployment("000000002bbbb", "web", t, t, new DeploymentState.Queued(dir), null, java.util.Map.of("queued", t), null)
          .toJson(null);
      ledger.writer().record(DeploymentRow.fromJson(queued));
      assertEquals(queued, ledger.reader().deployment("000000002bbbb").orElseThrow().toJson());
      assertEquals(new JsonObject().put("name", "web").put("url", null).put("current", null).put("latest", queued),
          ledger.reader().service("web").orElseThrow().toJson());
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
        LedgerMigrations.statements("-- comment\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a (x);\n"));
    assertFalse(LedgerMigrations.statements("").iterator().hasNext());
  }
}
