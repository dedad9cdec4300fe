package dev.ferry.deployment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The ledger's schema: built by the ordered SQL files of {@link #MIGRATIONS}, each applied once,
 * in one transaction, and noted in {@code schema_version}.
 */
final class LedgerMigrations {

  private static final Logger log = LoggerFactory.getLogger(LedgerMigrations.class);

  /** The schema's migrations, in order; version N is the N-th. Never edit one that shipped: add one. */
  static final List<String> MIGRATIONS = List.of("001-ledger.sql", "002-runners.sql", "003-sleeping.sql", "004-activations.sql");

  private LedgerMigrations() {
  }

  /** The schema version the ledger on {@code db} is at. */
  static int schemaVersion(Connection db) throws SQLException {
    try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  /** Applies the migrations {@code db} (the ledger in {@code file}) has not had yet. */
  static void migrate(Connection db, Path file) throws SQLException, IOException {
    try (Statement s = db.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    }
    int at = schemaVersion(db);
    if (at > MIGRATIONS.size()) {
      throw new SQLException("schema version " + at + " is newer than this Ferry knows (" + MIGRATIONS.size() + ")");
    }
    for (int v = at + 1; v <= MIGRATIONS.size(); v++) {
      String name = MIGRATIONS.get(v - 1);
      String sql;
      try (InputStream in = LedgerMigrations.class.getResourceAsStream("migrations/" + name)) {
        if (in == null) throw new IOException("migration " + name + " is missing from the classpath");
        sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      int version = v;
      SqliteWriter.transaction(db, () -> {
        try (Statement s = db.createStatement()) {
          for (String stmt : statements(sql)) s.execute(stmt);
        }
        SqliteWriter.update(db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", version,
            DeploymentRow.ts(Instant.now()));
      });
      log.info("Ledger {}: applied migration {} ({})", file, version, name);
    }
  }

  /** The statements of a migration: split on ';' at line ends, comments dropped. */
  static List<String> statements(String sql) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : sql.split("\n")) {
      String l = line.strip();
      if (l.startsWith("--") || l.isEmpty()) continue;
      cur.append(line).append('\n');
      if (l.endsWith(";")) {
        out.add(cur.toString().strip());
        cur.setLength(0);
      }
    }
    if (!cur.toString().isBlank()) out.add(cur.toString().strip());
    return out;
  }
}
