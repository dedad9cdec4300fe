package dev.ferry.deployment;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The ledger's queries, on a read-only connection of their own: in WAL mode a read sees the last
 * commit and waits for no write. A read of several queries runs in one read transaction, so it
 * sees one moment of the ledger. One thread at a time (reads are short).
 */
final class SqliteReader implements LedgerReader {

  /** The states of a deployment that serves its service (a sleeping one too: the next request wakes it). */
  private static final List<String> SERVING = List.of(StateName.wires(StateName.LIVE));

  private final Path file;
  private final Connection db;

  SqliteReader(Path file, Connection db) {
    this.file = file;
    this.db = db;
  }

  @Override
  public synchronized List<LogLine> logs(String deploymentId) {
    List<LogLine> out = new ArrayList<>();
    query("SELECT " + LedgerRows.LOG_COLUMNS + " FROM log_lines WHERE deployment = ? ORDER BY seq", rs -> {
      while (rs.next()) out.add(LedgerRows.line(rs));
    }, deploymentId);
    return out;
  }

  @Override
  public synchronized List<LogLine> logs(String deploymentId, String stage) {
    List<LogLine> out = new ArrayList<>();
    query("SELECT " + LedgerRows.LOG_COLUMNS + " FROM log_lines WHERE deployment = ? AND stage = ? ORDER BY seq", rs -> {
      while (rs.next()) out.add(LedgerRows.line(rs));
    }, deploymentId, stage);
    return out;
  }

  @Override
  public synchronized Optional<DeploymentRow> deployment(String id) {
    return deploymentsWhere("id = ?", "", id).stream().findFirst();
  }

  @Override
  public synchronized List<DeploymentRow> deployments(String service) {
    return deploymentsWhere("service = ?", "ORDER BY id DESC", service);
  }

  @Override
  public synchronized Optional<ServiceRow> service(String name) {
    return snapshot(() -> live(name));
  }

  @Override
  public synchronized List<ServiceRow> services() {
    return snapshot(() -> {
      List<String> names = new ArrayList<>();
      query("SELECT name FROM services WHERE deleted_at IS NULL ORDER BY name", rs -> {
        while (rs.next()) names.add(rs.getString(1));
      });
      List<ServiceRow> out = new ArrayList<>();
      for (String n : names) live(n).ifPresent(out::add);
      return out;
    });
  }

  @Override
  public synchronized List<DeploymentRow> inState(java.util.Set<StateName> states) {
    if (states.isEmpty()) return List.of();
    return deploymentsWhere("state IN (" + SqliteWriter.marks(states.size()) + ")", "ORDER BY id", (Object[]) StateName.wires(states));
  }

  @Override
  public synchronized List<DeploymentRow> builtFrom(String sourceHash) {
    return deploymentsWhere("source_hash = ? AND artifact_path IS NOT NULL", "ORDER BY id DESC", sourceHash);
  }

  synchronized int schemaVersion() throws SQLException {
    return LedgerMigrations.schemaVersion(db);
  }

  /** The connection this reader uses (for tests). */
  Connection connection() {
    return db;
  }

  synchronized void close() {
    SqliteLedger.closeQuietly(db);
  }

  private Optional<ServiceRow> live(String name) {
    boolean[] live = {false};
    query("SELECT 1 FROM services WHERE name = ? AND deleted_at IS NULL", rs -> live[0] = rs.next(), name);
    if (!live[0]) return Optional.empty();
    List<DeploymentRow> latest = deploymentsWhere("service = ?", "ORDER BY id DESC LIMIT 1", name);
    if (latest.isEmpty()) return Optional.empty();
    // the deployment that went live last serves the service (a rollback may make an older one current)
    List<Object> args = new ArrayList<>(List.of(name));
    args.addAll(SERVING);
    List<DeploymentRow> current = deploymentsWhere("service = ? AND state IN (" + SqliteWriter.marks(SERVING.size()) + ")",
        "ORDER BY deployed_at DESC, id DESC LIMIT 1", args.toArray());
    return Optional.of(new ServiceRow(name, current.isEmpty() ? null : current.get(0), latest.get(0)));
  }

  private List<DeploymentRow> deploymentsWhere(String where, String order, Object... args) {
    List<DeploymentRow> out = new ArrayList<>();
    query("SELECT " + LedgerRows.COLUMNS + " FROM deployments WHERE " + where + " " + order, rs -> {
      while (rs.next()) out.add(LedgerRows.deployment(rs));
    }, args);
    return out;
  }

  private interface Rows {
    void read(ResultSet rs) throws SQLException;
  }

  private void query(String sql, Rows rows, Object... args) {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
      try (ResultSet rs = ps.executeQuery()) {
        rows.read(rs);
      }
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  /** What {@code reads} returns, read in one transaction: every query of it sees the same commit. */
  private <T> T snapshot(Callable<T> reads) {
    try {
      db.setAutoCommit(false);
      try {
        return reads.call();
      } finally {
        // nothing was written: ending the transaction only lets go of its snapshot
        db.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw failure(e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private IllegalStateException failure(SQLException e) {
    return new IllegalStateException("Ledger " + file + ": cannot query the ledger: " + e.getMessage(), e);
  }
}
