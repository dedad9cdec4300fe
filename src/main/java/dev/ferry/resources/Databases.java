package dev.ferry.resources;

import dev.ferry.deployment.StageException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Provisions PostgreSQL databases: one database and one role per (service, name), the role owning
 * the database and the only one besides the administrator that may connect to it, with a random
 * password the {@link ResourceStore} keeps (encrypted), so every deployment gets the same
 * credentials. Passwords reach the server only as SCRAM verifiers. Every method blocks; one at a time.
 */
final class Databases implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Databases.class);
  private static final int MAX_IDENTIFIER = 63;

  private final PostgresServer server;
  private final ResourceStore store;
  private Connection admin;

  Databases(PostgresServer server, ResourceStore store) {
    this.server = server;
    this.store = store;
  }

  String describeServer() {
    return server.describe();
  }

  /**
   * The connection of (service, name), made on the server if it is not there; what the verticle's
   * config carries under {@code ferry.postgres.<name>}.
   */
  synchronized JsonObject provide(String service, String name, Consumer<String> progress) throws StageException {
    long t0 = System.nanoTime();
    Connection c = admin(progress);
    Optional<ResourceStore.Database> kept = store.database(service, name, server.id());
    ResourceStore.Database d = kept.orElseGet(() -> newDatabase(service, name));
    try {
      boolean role = exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", d.role());
      boolean database = exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", d.database());
      if (kept.isPresent() && role && database) {
        progress.accept("Database " + name + ": " + d.database() + " on " + server.describe());
        return connection(d, true);
      }
      if (kept.isPresent()) {
        log.warn("Database {} of {} ({}) was not on {}: creating it afresh", name, service, d.database(), server.describe());
        progress.accept("Database " + name + " (" + d.database() + ") was not on " + server.describe() + ": creating it, empty");
      }
      create(c, d, role, database);
      if (kept.isEmpty()) store.putDatabase(d);
      progress.accept("Database " + name + ": created " + d.database() + " on " + server.describe() + " ("
          + (System.nanoTime() - t0) / 1_000_000 + " ms)");
      log.info("Created database {} of {} as {} on {}", name, service, d.database(), server.describe());
      return connection(d, true);
    } catch (SQLException e) {
      dropAdmin();
      throw new StageException("Cannot provision database " + name + " (" + d.database() + ") on " + server.describe() + ": "
          + e.getMessage(), e);
    }
  }

  private ResourceStore.Database newDatabase(String service, String name) {
    String ident = identifier(service, name);
    for (int i = 2; store.databaseNameTaken(server.id(), ident); i++) ident = identifier(service, name + "-" + i);
    return new ResourceStore.Database(service, name, server.id(), ident, ident, Vault.randomPassword(),
        Instant.now().truncatedTo(ChronoUnit.MILLIS));
  }

  /** {@code <service>_<name>_<6 hex of both>}: readable, within 63 bytes, and one per (service, name). */
  static String identifier(String service, String name) {
    String hash = sha256(service + "\0" + name).substring(0, 6);
    String n = name.replace('-', '_');
    String s = service.replace('-', '_');
    int room = MAX_IDENTIFIER - n.length() - hash.length() - 2;
    if (s.length() > room) s = s.substring(0, room);
    return (s + "_" + n + "_" + hash).toLowerCase(Locale.ROOT);
  }

  private void create(Connection c, ResourceStore.Database d, boolean roleExists, boolean databaseExists) throws SQLException {
    String role = quote(d.role()), db = quote(d.database()), verifier = literal(Scram.verifier(d.password()));
    try (Statement s = c.createStatement()) {
      if (roleExists) {
        s.execute("ALTER ROLE " + role + " WITH LOGIN PASSWORD " + verifier);
      } else {
        s.execute("CREATE ROLE " + role + " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD " + verifier);
      }
      if (!databaseExists) {
        // an administrator that is not a superuser must be a member of the role to make it the owner
        if (!isSuperuser(c)) s.execute("GRANT " + role + " TO CURRENT_USER");
        s.execute("CREATE DATABASE " + db + " OWNER " + role + " ENCODING 'UTF8'");
      }
      s.execute("REVOKE ALL ON DATABASE " + db + " FROM PUBLIC");
      s.execute("GRANT ALL ON DATABASE " + db + " TO " + role);
    }
  }

  /** The databases of {@code service}, on any server it was ever given one; passwords only if {@code reveal}. */
  synchronized List<JsonObject> list(String service, boolean reveal) {
    List<JsonObject> out = new ArrayList<>();
    for (ResourceStore.Database d : store.databases(service)) {
      JsonObject j = d.server().equals(server.id()) ? connection(d, reveal)
          : new JsonObject().put("database", d.database()).put("user", d.role());
      j.put("name", d.name()).put("server", d.server().equals(server.id()) ? server.describe() : d.server())
          .put("current", d.server().equals(server.id())).put("createdAt", d.createdAt().toString());
      out.add(j);
    }
    return out;
  }

  /** Drops the databases and roles of {@code service} on the current server; returns their names. */
  synchronized List<String> drop(String service, Consumer<String> progress) throws StageException {
    List<String> dropped = new ArrayList<>();
    List<ResourceStore.Database> all = store.databases(service);
    if (all.isEmpty()) return dropped;
    Connection c = admin(progress);
    for (ResourceStore.Database d : all) {
      if (!d.server().equals(server.id())) continue;
      try (Statement s = c.createStatement()) {
        if (c.getMetaData().getDatabaseMajorVersion() >= 13) {
          s.execute("DROP DATABASE IF EXISTS " + quote(d.database()) + " WITH (FORCE)");
        } else {
          try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?")) {
            ps.setString(1, d.database());
            ps.execute();
          }
          s.execute("DROP DATABASE IF EXISTS " + quote(d.database()));
        }
        s.execute("DROP ROLE IF EXISTS " + quote(d.role()));
      } catch (SQLException e) {
        dropAdmin();
        throw new StageException("Cannot drop database " + d.database() + " of " + service + ": " + e.getMessage(), e);
      }
      store.deleteDatabase(d);
      dropped.add(d.name());
      log.info("Dropped database {} of {} ({})", d.name(), service, d.database());
    }
    return dropped;
  }

  private JsonObject connection(ResourceStore.Database d, boolean withPassword) {
    JsonObject j = new JsonObject().put("host", server.host()).put("port", server.port()).put("database", d.database())
        .put("user", d.role());
    if (withPassword) {
      j.put("password", d.password()).put("uri", "postgresql://" + d.role() + ":" + d.password() + "@" + hostForUri() + ":"
          + server.port() + "/" + d.database() + server.uriParameters());
    } else {
      j.put("uri", "postgresql://" + d.role() + "@" + hostForUri() + ":" + server.port() + "/" + d.database() + server.uriParameters());
    }
    return j;
  }

  private String hostForUri() {
    return server.host().contains(":") ? "[" + server.host() + "]" : server.host();
  }

  /** Starts the server (when it is the embedded one and not running) if {@code service} has databases on it. */
  synchronized void resume(String service, Consumer<String> progress) throws StageException {
    if (store.databases(service).stream().anyMatch(d -> d.server().equals(server.id()))) admin(progress);
  }

  private Connection admin(Consumer<String> progress) throws StageException {
    try {
      if (admin != null && admin.isValid(2)) return admin;
    } catch (SQLException e) {
      // gone: make another
    }
    dropAdmin();
    admin = server.admin(progress);
    return admin;
  }

  private void dropAdmin() {
    if (admin == null) return;
    try {
      admin.close();
    } catch (SQLException ignored) {
      // closing a broken connection
    }
    admin = null;
  }

  private static boolean exists(Connection c, String sql, String arg) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static boolean isSuperuser(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  private static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void close() {
    dropAdmin();
    server.close();
  }
}
