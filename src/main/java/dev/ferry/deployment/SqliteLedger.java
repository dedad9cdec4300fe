package dev.ferry.deployment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The ledger in an embedded SQLite file (WAL mode): its schema brought up to date by
 * {@link LedgerMigrations}, one connection that writes ({@link #writer}, for the {@link Recorder})
 * and one read-only connection that reads ({@link #reader}). WAL lets a read go on while a write
 * transaction is open, so reads never wait for the writer.
 */
public final class SqliteLedger implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SqliteLedger.class);

  private final Path file;
  private final SqliteWriter writer;
  private final SqliteReader reader;

  private SqliteLedger(Path file, SqliteWriter writer, SqliteReader reader) {
    this.file = file;
    this.writer = writer;
    this.reader = reader;
  }

  /** Opens (creating if needed) the ledger in {@code file} and brings its schema up to date. */
  public static SqliteLedger open(Path file) {
    nativeLibrary(file.toAbsolutePath().getParent().resolve("cache"));
    Connection db = null;
    Connection ro = null;
    try {
      db = connect(file, false);
      try (Statement s = db.createStatement()) {
        try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
          if (!rs.next() || !"wal".equalsIgnoreCase(rs.getString(1))) throw new SQLException("WAL mode refused");
        }
        // in WAL mode, NORMAL loses nothing when the process dies, only (maybe) the last commits on power loss
        s.execute("PRAGMA synchronous = NORMAL");
        s.execute("PRAGMA foreign_keys = ON");
      }
      LedgerMigrations.migrate(db, file);
      // opened once the file and its schema exist
      ro = connect(file, true);
      return new SqliteLedger(file, new SqliteWriter(file, db), new SqliteReader(file, ro));
    } catch (SQLException | IOException e) {
      closeQuietly(ro);
      closeQuietly(db);
      throw new IllegalStateException("Cannot open the ledger " + file + ": " + e.getMessage(), e);
    }
  }

  private static Connection connect(Path file, boolean readOnly) throws SQLException {
    org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
    config.setBusyTimeout(5000);
    config.setReadOnly(readOnly);
    // the driver itself, not DriverManager, which would load every JDBC driver on the classpath first
    return new org.sqlite.JDBC().connect("jdbc:sqlite:" + file.toAbsolutePath(), config.toProperties());
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

  /** What writes: for the {@link Recorder} alone. */
  public LedgerWriter writer() {
    return writer;
  }

  /** What reads, on a connection of its own. */
  public LedgerReader reader() {
    return reader;
  }

  /** The schema version the ledger is at. */
  public int schemaVersion() {
    try {
      return reader.schemaVersion();
    } catch (SQLException e) {
      throw new IllegalStateException("Ledger " + file + ": cannot read the schema version: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    reader.close();
    writer.close();
  }

  static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException e) {
      log.warn("Closing the ledger failed", e);
    }
  }
}
