package dev.ferry.deployment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The ledger in an embedded SQLite file (WAL mode). Its schema is built by the ordered SQL files
 * of {@link #MIGRATIONS}, each applied once, in one transaction, and noted in {@code schema_version}.
 * Every write is one transaction, so a failed write (a full disk) leaves the ledger as it was.
 * One connection, used by one thread at a time; every method blocks.
 */
public final class SqliteLedger implements Ledger {

  private static final Logger log = LoggerFactory.getLogger(SqliteLedger.class);

  /** The schema's migrations, in order; version N is the N-th. Never edit one that shipped: add one. */
  static final List<String> MIGRATIONS = List.of("001-ledger.sql", "002-runners.sql", "003-sleeping.sql",
      "004-activations.sql");
  /** Stage timestamps kept in columns of their own ({@code <state>_at}), one per state. */
  private static final List<String> STAGES = java.util.Arrays.stream(StateName.values()).map(StateName::wire).toList();
  /** Fixed-width timestamps, so that text order is time order. */
  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final String COLUMNS = "id, service, state, created_at, updated_at, "
      + String.join(", ", STAGES.stream().map(s -> s + "_at").toList()) + ", error_stage, error, artifact_path, "
      + "artifact_sha256, entry, dependencies, source_hash, readiness_path, port, url, run_settings, crash_causes, source_id";

  private final Path file;
  private final Connection db;

  private SqliteLedger(Path file, Connection db) {
    this.file = file;
    this.db = db;
  }

  /** Opens (creating if needed) the ledger in {@code file} and brings its schema up to date. */
  public static SqliteLedger open(Path file) {
    nativeLibrary(file.toAbsolutePath().getParent().resolve("cache"));
    Connection db = null;
    try {
      // the driver itself, not DriverManager, which would load every JDBC driver on the classpath first
      db = new org.sqlite.JDBC().connect("jdbc:sqlite:" + file.toAbsolutePath(), new java.util.Properties());
      try (Statement s = db.createStatement()) {
        s.execute("PRAGMA busy_timeout = 5000");
        try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
          if (!rs.next() || !"wal".equalsIgnoreCase(rs.getString(1))) throw new SQLException("WAL mode refused");
        }
        // in WAL mode, NORMAL loses nothing when the process dies, only (maybe) the last commits on power loss
        s.execute("PRAGMA synchronous = NORMAL");
        s.execute("PRAGMA foreign_keys = ON");
      }
      SqliteLedger ledger = new SqliteLedger(file, db);
      ledger.migrate();
      return ledger;
    } catch (SQLException | IOException e) {
      closeQuietly(db);
      throw new IllegalStateException("Cannot open the ledger " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * sqlite-jdbc extracts its native library to the temp dir at every start and compares the copy
   * with the original byte by byte, which costs a restart most of a second on a busy machine: the
   * library is kept in {@code cache} instead, once per version and platform, and loaded from there.
   * Nothing changes when the JVM was told where the library is, or when it cannot be kept.
   */
  private static synchronized void nativeLibrary(Path cache) {
    if (System.getProperty("org.sqlite.lib.path") != null) return;
    try {
      String folder = org.sqlite.util.OSInfo.getNativeLibFolderPathForCurrentOS();
      String name = System.mapLibraryName("sqlitejdbc");
      java.net.URL resource = org.sqlite.SQLiteJDBCLoader.class.getResource("/org/sqlite/native/" + folder + "/" + name);
      if (resource == null) return;
      Path dir = cache.resolve("sqlite-" + org.sqlite.SQLiteJDBCLoader.getVersion() + "-" + folder.replace('/', '-'));
      Path lib = dir.resolve(name);
      if (!Files.isRegularFile(lib)) {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, name, ".tmp");
        try (InputStream in = resource.openStream()) {
          Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, lib, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      System.setProperty("org.sqlite.lib.path", dir.toString());
      System.setProperty("org.sqlite.lib.name", name);
    } catch (IOException | RuntimeException | LinkageError e) {
      log.debug("SQLite's native library stays where the driver puts it: {}", e.toString());
    }
  }

  /** The schema version the ledger is at. */
  public synchronized int schemaVersion() {
    try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
      return rs.next() ? rs.getInt(1) : 0;
    } catch (SQLException e) {
      throw failure("read the schema version", e);
    }
  }

  private synchronized void migrate() throws SQLException, IOException {
    try (Statement s = db.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    }
    int at = schemaVersion();
    if (at > MIGRATIONS.size()) {
      throw new SQLException("schema version " + at + " is newer than this Ferry knows (" + MIGRATIONS.size() + ")");
    }
    for (int v = at + 1; v <= MIGRATIONS.size(); v++) {
      String name = MIGRATIONS.get(v - 1);
      String sql;
      try (InputStream in = SqliteLedger.class.getResourceAsStream("migrations/" + name)) {
        if (in == null) throw new IOException("migration " + name + " is missing from the classpath");
        sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      int version = v;
      transaction(() -> {
        try (Statement s = db.createStatement()) {
          for (String stmt : statements(sql)) s.execute(stmt);
        }
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")) {
          ps.setInt(1, version);
          ps.setString(2, TS.format(Instant.now()));
          ps.executeUpdate();
        }
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

  @Override
  public synchronized void record(JsonObject event) {
    String service = event.getString("service");
    String id = event.getString("id");
    String at = ts(event.getString("updatedAt"));
    try {
      transaction(() -> {
        if (id == null) {
          // a service-level event: the service was deleted
          update("UPDATE services SET deleted_at = ? WHERE name = ?", at, service);
          return;
        }
        boolean isNew = !exists(id);
        if (isNew) {
          // a new deployment brings a deleted service back
          update("INSERT INTO services (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET deleted_at = NULL",
              service, at);
        }
        upsert(event);
      });
    } catch (SQLException e) {
      throw failure("record " + event.encode(), e);
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

  private void upsert(JsonObject e) throws SQLException {
    JsonObject timeline = e.getJsonObject("timeline", new JsonObject());
    JsonObject a = e.getJsonObject("artifact");
    List<Object> v = new ArrayList<>();
    v.add(e.getString("id"));
    v.add(e.getString("service"));
    v.add(e.getString("state"));
    v.add(ts(e.getString("createdAt")));
    v.add(ts(e.getString("updatedAt")));
    for (String stage : STAGES) v.add(ts(timeline.getString(stage)));
    v.add(e.getString("stage"));
    v.add(e.getString("error"));
    v.add(a == null ? null : a.getString("path"));
    v.add(a == null ? null : a.getString("sha256"));
    v.add(a == null ? null : a.getString("entry"));
    v.add(a == null ? null : a.getJsonArray("dependencies", new JsonArray()).encode());
    v.add(a == null ? null : a.getString("sourceHash"));
    v.add(a == null ? null : a.getString("readinessPath"));
    v.add(e.getInteger("port"));
    v.add(e.getString("url"));
    v.add(a == null ? null : a.getJsonObject("settings", new JsonObject()).encode());
    v.add(e.getJsonArray("causes") == null ? null : e.getJsonArray("causes").encode());
    v.add(e.getString("source"));
    String marks = "?, ".repeat(v.size() - 1) + "?";
    StringBuilder set = new StringBuilder();
    for (String c : COLUMNS.split(", ")) {
      if (!c.equals("id") && !c.equals("created_at")) set.append(set.length() == 0 ? "" : ", ").append(c).append(" = excluded.").append(c);
    }
    update("INSERT INTO deployments (" + COLUMNS + ") VALUES (" + marks + ") ON CONFLICT (id) DO UPDATE SET " + set, v.toArray());
  }

  @Override
  public synchronized void appendLog(JsonObject line) {
    try {
      update("INSERT INTO log_lines (deployment, ts, level, stage, message) VALUES (?, ?, ?, ?, ?)",
          line.getString("deployment"), line.getString("ts"), line.getString("level"), line.getString("stage"),
          line.getString("message", ""));
    } catch (SQLException e) {
      throw failure("store a log line", e);
    }
  }

  @Override
  public synchronized List<JsonObject> logs(String deploymentId) {
    List<JsonObject> out = new ArrayList<>();
    query("SELECT ts, level, stage, message FROM log_lines WHERE deployment = ? ORDER BY seq", rs -> {
      while (rs.next()) {
        out.add(new JsonObject().put("ts", rs.getString(1)).put("level", rs.getString(2)).put("stage", rs.getString(3))
            .put("message", rs.getString(4)).put("deployment", deploymentId));
      }
    }, deploymentId);
    return out;
  }

  @Override
  public synchronized Optional<JsonObject> deployment(String id) {
    List<JsonObject> d = deploymentsWhere("id = ?", "", id);
    return d.isEmpty() ? Optional.empty() : Optional.of(d.get(0));
  }

  @Override
  public synchronized List<JsonObject> deployments(String service) {
    return deploymentsWhere("service = ?", "ORDER BY id DESC", service);
  }

  @Override
  public synchronized Optional<JsonObject> service(String name) {
    boolean[] live = {false};
    query("SELECT 1 FROM services WHERE name = ? AND deleted_at IS NULL", rs -> live[0] = rs.next(), name);
    if (!live[0]) return Optional.empty();
    List<JsonObject> latest = deploymentsWhere("service = ?", "ORDER BY id DESC LIMIT 1", name);
    if (latest.isEmpty()) return Optional.empty();
    // the deployment that went live last serves the service (a rollback may make an older one current)
    // a sleeping one is current too: the next request wakes it
    List<JsonObject> current = deploymentsWhere("service = ? AND state IN (?, ?)", "ORDER BY deployed_at DESC, id DESC LIMIT 1",
        name, StateName.DEPLOYED.wire(), StateName.SLEEPING.wire());
    JsonObject cur = current.isEmpty() ? null : current.get(0);
    return Optional.of(new JsonObject()
        .put("name", name)
        .put("url", cur == null ? null : cur.getString("url"))
        .put("current", cur)
        .put("latest", latest.get(0)));
  }

  @Override
  public synchronized List<JsonObject> services() {
    List<String> names = new ArrayList<>();
    query("SELECT name FROM services WHERE deleted_at IS NULL ORDER BY name", rs -> {
      while (rs.next()) names.add(rs.getString(1));
    });
    List<JsonObject> out = new ArrayList<>();
    for (String n : names) service(n).ifPresent(out::add);
    return out;
  }

  @Override
  public synchronized List<JsonObject> inState(Set<StateName> states) {
    if (states.isEmpty()) return List.of();
    return deploymentsWhere("state IN (" + "?, ".repeat(states.size() - 1) + "?)", "ORDER BY id", (Object[]) StateName.wires(states));
  }

  @Override
  public synchronized List<JsonObject> builtFrom(String sourceHash) {
    return deploymentsWhere("source_hash = ? AND artifact_path IS NOT NULL", "ORDER BY id DESC", sourceHash);
  }

  @Override
  public synchronized void close() {
    closeQuietly(db);
  }

  private List<JsonObject> deploymentsWhere(String where, String order, Object... args) {
    List<JsonObject> out = new ArrayList<>();
    query("SELECT " + COLUMNS + " FROM deployments WHERE " + where + " " + order, rs -> {
      while (rs.next()) out.add(json(rs));
    }, args);
    return out;
  }

  /** A row as {@link Deployment#toJson} shapes it. */
  private static JsonObject json(ResultSet rs) throws SQLException {
    String state = rs.getString("state");
    JsonObject json = new JsonObject()
        .put("id", rs.getString("id"))
        .put("service", rs.getString("service"))
        .put("state", state)
        .put("createdAt", rs.getString("created_at"))
        .put("updatedAt", rs.getString("updated_at"));
    List<Map.Entry<String, String>> stages = new ArrayList<>();
    for (String stage : STAGES) {
      String at = rs.getString(stage + "_at");
      if (at != null) stages.add(Map.entry(stage, at));
    }
    stages.sort(Map.Entry.comparingByValue(Comparator.naturalOrder()));
    JsonObject timeline = new JsonObject();
    stages.forEach(e -> timeline.put(e.getKey(), e.getValue()));
    json.put("timeline", timeline);
    String path = rs.getString("artifact_path");
    if (path != null) {
      json.put("artifact", new JsonObject().put("sha256", rs.getString("artifact_sha256")).put("path", path)
          .put("entry", rs.getString("entry")).put("dependencies", new JsonArray(rs.getString("dependencies")))
          .put("sourceHash", rs.getString("source_hash")).put("readinessPath", rs.getString("readiness_path"))
          .put("settings", rs.getString("run_settings") == null ? new JsonObject() : new JsonObject(rs.getString("run_settings"))));
    }
    if (rs.getString("source_id") != null) json.put("source", rs.getString("source_id"));
    if (StateName.FAILED.is(state)) json.put("stage", rs.getString("error_stage")).put("error", rs.getString("error"));
    if (StateName.in(StateName.LIVE, state)) json.put("url", rs.getString("url")).put("port", rs.getInt("port"));
    if (StateName.CRASHED.is(state)) json.put("causes", new JsonArray(rs.getString("crash_causes"))).put("error", rs.getString("error"));
    return json;
  }

  private interface Work {
    void run() throws SQLException;
  }

  private interface Rows {
    void read(ResultSet rs) throws SQLException;
  }

  /** Runs {@code work} in one transaction: all of it is written, or none. */
  private void transaction(Work work) throws SQLException {
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

  private void update(String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
      ps.executeUpdate();
    }
  }

  private void query(String sql, Rows rows, Object... args) {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
      try (ResultSet rs = ps.executeQuery()) {
        rows.read(rs);
      }
    } catch (SQLException e) {
      throw failure("query the ledger", e);
    }
  }

  private static String ts(String iso) {
    return iso == null ? null : TS.format(Instant.parse(iso));
  }

  private IllegalStateException failure(String what, SQLException e) {
    return new IllegalStateException("Ledger " + file + ": cannot " + what + ": " + e.getMessage(), e);
  }

  private static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException e) {
      log.warn("Closing the ledger failed", e);
    }
  }
}
