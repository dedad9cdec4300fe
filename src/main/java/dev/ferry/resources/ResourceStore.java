package dev.ferry.resources;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the platform keeps about services' resources, in {@code <data dir>/resources.db} (SQLite,
 * mode 0600): secrets and database passwords encrypted by the {@link Vault}, names and times in
 * the clear. Apart from the ledger, so that its rows never carry a value. One connection; every
 * method blocks and is synchronized.
 */
final class ResourceStore implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ResourceStore.class);
  private static final String KEY_CHECK = "key-check";

  /** A secret's name and when it was last set; never its value. */
  record SecretInfo(String name, Instant updatedAt) {
  }

  /** A database provisioned for (service, name) on {@code server}, with its role's password. */
  record Database(String service, String name, String server, String database, String role, String password, Instant createdAt) {
    @Override
    public String toString() {
      return "Database[" + service + "/" + name + " = " + database + " on " + server + "]";
    }
  }

  private final Path file;
  private final Connection db;
  private final Vault vault;

  private ResourceStore(Path file, Connection db, Vault vault) {
    this.file = file;
    this.db = db;
    this.vault = vault;
  }

  static ResourceStore open(Path file, Vault vault) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Connection db = null;
    try {
      db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement s = db.createStatement()) {
        s.execute("PRAGMA busy_timeout = 5000");
        s.execute("PRAGMA synchronous = FULL");
        s.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)");
        s.execute("CREATE TABLE IF NOT EXISTS secrets (service TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, "
            + "updated_at TEXT NOT NULL, PRIMARY KEY (service, name))");
        s.execute("CREATE TABLE IF NOT EXISTS databases (service TEXT NOT NULL, name TEXT NOT NULL, server TEXT NOT NULL, "
            + "database TEXT NOT NULL, role TEXT NOT NULL, password BLOB NOT NULL, created_at TEXT NOT NULL, "
            + "PRIMARY KEY (service, name, server), UNIQUE (server, database))");
      }
      ResourceStore store = new ResourceStore(file, db, vault);
      store.checkKey();
      return store;
    } catch (SQLException e) {
      if (db != null) {
        try {
          db.close();
        } catch (SQLException ignored) {
          // failing anyway
        }
      }
      throw new IOException("Cannot open " + file + ": " + e.getMessage(), e);
    }
  }

  /** Notes a value encrypted with the key, or checks the one noted before: a changed key is said at start. */
  private void checkKey() {
    Optional<byte[]> check = metaBytes(KEY_CHECK);
    if (check.isEmpty()) {
      putMetaBytes(KEY_CHECK, vault.encrypt("ferry", "platform/" + KEY_CHECK));
      return;
    }
    try {
      vault.decrypt(check.get(), "platform/" + KEY_CHECK);
    } catch (Vault.WrongKey e) {
      log.error("The secrets key does not open {}: secrets and database passwords stored there cannot be read, so "
          + "deployments that need them will fail. Restore the key (FERRY_SECRETS_KEY or secrets.key in the data dir)", file);
    }
  }

  // ---- secrets

  synchronized List<SecretInfo> secretInfos(String service) {
    List<SecretInfo> out = new ArrayList<>();
    query("SELECT name, updated_at FROM secrets WHERE service = ? ORDER BY name", rs -> {
      while (rs.next()) out.add(new SecretInfo(rs.getString(1), Instant.parse(rs.getString(2))));
    }, service);
    return out;
  }

  /** Every secret of {@code service}, decrypted. */
  synchronized Map<String, String> secretValues(String service) {
    Map<String, String> out = new LinkedHashMap<>();
    query("SELECT name, value FROM secrets WHERE service = ? ORDER BY name", rs -> {
      while (rs.next()) out.put(rs.getString(1), vault.decrypt(rs.getBytes(2), secretPlace(service, rs.getString(1))));
    }, service);
    return out;
  }

  /**
   * Sets the entries of {@code values} (a null value removes its key) in one transaction; returns
   * the keys whose value changed.
   */
  synchronized List<String> putSecrets(String service, Map<String, String> values) {
    Map<String, String> before = secretValues(service);
    List<String> changed = new ArrayList<>();
    String now = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    transaction(() -> {
      for (var e : values.entrySet()) {
        String key = e.getKey(), value = e.getValue();
        if (value == null) {
          if (before.containsKey(key)) {
            update("DELETE FROM secrets WHERE service = ? AND name = ?", service, key);
            changed.add(key);
          }
        } else if (!value.equals(before.get(key))) {
          update("INSERT INTO secrets (service, name, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (service, name) "
              + "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at", service, key,
              vault.encrypt(value, secretPlace(service, key)), now);
          changed.add(key);
        }
      }
    });
    return changed;
  }

  synchronized int deleteSecrets(String service) {
    return update("DELETE FROM secrets WHERE service = ?", service);
  }

  private static String secretPlace(String service, String key) {
    return service + "/secret/" + key;
  }

  // ---- databases

  synchronized Optional<Database> database(String service, String name, String server) {
    List<Database> out = databasesWhere("service = ? AND name = ? AND server = ?", service, name, server);
    return out.isEmpty() ? Optional.empty() : Optional.of(out.get(0));
  }

  synchronized List<Database> databases(String service) {
    return databasesWhere("service = ?", service);
  }

  synchronized void putDatabase(Database d) {
    update("INSERT INTO databases (service, name, server, database, role, password, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        d.service(), d.name(), d.server(), d.database(), d.role(), vault.encrypt(d.password(), dbPlace(d)), d.createdAt().toString());
  }

  synchronized void deleteDatabase(Database d) {
    update("DELETE FROM databases WHERE service = ? AND name = ? AND server = ?", d.service(), d.name(), d.server());
  }

  /** Whether a database of another (service, name) has the name {@code database} on {@code server}. */
  synchronized boolean databaseNameTaken(String server, String database) {
    boolean[] taken = {false};
    query("SELECT 1 FROM databases WHERE server = ? AND database = ?", rs -> taken[0] = rs.next(), server, database);
    return taken[0];
  }

  private List<Database> databasesWhere(String where, Object... args) {
    List<Database> out = new ArrayList<>();
    query("SELECT service, name, server, database, role, password, created_at FROM databases WHERE " + where
        + " ORDER BY name, server", rs -> {
      while (rs.next()) {
        Database partial = new Database(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
            null, Instant.parse(rs.getString(7)));
        out.add(new Database(partial.service(), partial.name(), partial.server(), partial.database(), partial.role(),
            vault.decrypt(rs.getBytes(6), dbPlace(partial)), partial.createdAt()));
      }
    }, args);
    return out;
  }

  private static String dbPlace(Database d) {
    return d.service() + "/postgres/" + d.name() + "@" + d.server();
  }

  // ---- the platform's own values

  /** A value the platform keeps encrypted (the embedded server's superuser password). */
  synchronized Optional<String> secretMeta(String key) {
    return metaBytes(key).map(b -> vault.decrypt(b, "platform/" + key));
  }

  synchronized void putSecretMeta(String key, String value) {
    putMetaBytes(key, vault.encrypt(value, "platform/" + key));
  }

  /** A value the platform keeps in the clear (the embedded server's port). */
  synchronized Optional<String> meta(String key) {
    return metaBytes(key).map(b -> new String(b, java.nio.charset.StandardCharsets.UTF_8));
  }

  synchronized void putMeta(String key, String value) {
    putMetaBytes(key, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private Optional<byte[]> metaBytes(String key) {
    byte[][] v = {null};
    query("SELECT value FROM meta WHERE key = ?", rs -> {
      if (rs.next()) v[0] = rs.getBytes(1);
    }, key);
    return Optional.ofNullable(v[0]);
  }

  private void putMetaBytes(String key, byte[] value) {
    update("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }

  // ---- plumbing

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
      throw new IllegalStateException(file + ": " + e.getMessage(), e);
    }
  }

  private int update(String sql, Object... args) {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(file + ": " + e.getMessage(), e);
    }
  }

  private void transaction(Runnable work) {
    try {
      db.setAutoCommit(false);
      try {
        work.run();
        db.commit();
      } catch (RuntimeException e) {
        db.rollback();
        throw e;
      } finally {
        db.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      log.warn("Closing {} failed: {}", file, e.toString());
    }
  }
}
