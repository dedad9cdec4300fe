package dev.ferry.deployment;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Writes the SQLite ledger on its one read-write connection. Every write is one transaction, so a
 * failed write (a full disk) leaves the ledger as it was. One thread at a time.
 */
final class SqliteWriter implements LedgerWriter {

  private final Path file;
  private final Connection db;

  SqliteWriter(Path file, Connection db) {
    this.file = file;
    this.db = db;
  }

  @Override
  public synchronized void record(DeploymentRow d) {
    try {
      transaction(() -> {
        if (!exists(d.id())) {
          // a new deployment brings a deleted service back
          update(db, "INSERT INTO services (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET deleted_at = NULL",
              d.service(), DeploymentRow.ts(d.updatedAt()));
        }
        StringBuilder set = new StringBuilder();
        for (String c : LedgerRows.COLUMNS.split(", ")) {
          if (!c.equals("id") && !c.equals("created_at")) set.append(set.length() == 0 ? "" : ", ").append(c).append(" = excluded.").append(c);
        }
        Object[] values = LedgerRows.values(d);
        update(db, "INSERT INTO deployments (" + LedgerRows.COLUMNS + ") VALUES (" + marks(values.length) + ") ON CONFLICT (id) DO UPDATE SET "
            + set, values);
      });
    } catch (SQLException e) {
      throw failure("record " + d, e);
    }
  }

  @Override
  public synchronized void deleted(String service, Instant at) {
    try {
      update(db, "UPDATE services SET deleted_at = ? WHERE name = ?", DeploymentRow.ts(at), service);
    } catch (SQLException e) {
      throw failure("record the deletion of " + service, e);
    }
  }

  @Override
  public synchronized void append(LogLine line) {
    try {
      Object[] values = LedgerRows.values(line);
      update(db, "INSERT INTO log_lines (" + LedgerRows.LOG_COLUMNS + ") VALUES (" + marks(values.length) + ")", values);
    } catch (SQLException e) {
      throw failure("store a log line", e);
    }
  }

  private boolean exists(String id) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement("SELECT 1 FROM deployments WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The connection this writer uses (for tests). */
  Connection connection() {
    return db;
  }

  synchronized void close() {
    SqliteLedger.closeQuietly(db);
  }

  interface Work {
    void run() throws SQLException;
  }

  /** Runs {@code work} in one transaction of this writer's: all of it is written, or none. */
  synchronized void transaction(Work work) throws SQLException {
    transaction(db, work);
  }

  /** Runs {@code work} in one transaction on {@code db}: all of it is written, or none. */
  static void transaction(Connection db, Work work) throws SQLException {
    db.setAutoCommit(false);
    try {
      work.run();
      db.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        db.rollback();
      } catch (SQLException re) {
        e.addSuppressed(re);
      }
      throw e;
    } finally {
      db.setAutoCommit(true);
    }
  }

  static void update(Connection db, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
      ps.executeUpdate();
    }
  }

  static String marks(int n) {
    return "?, ".repeat(n - 1) + "?";
  }

  private IllegalStateException failure(String what, SQLException e) {
    return new IllegalStateException("Ledger " + file + ": cannot " + what + ": " + e.getMessage(), e);
  }
}
