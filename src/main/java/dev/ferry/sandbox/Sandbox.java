package dev.ferry.sandbox;

import dev.ferry.settings.RunConfig;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Turns a plain {@code java} command into one the operating system confines. With bubblewrap
 * ({@code run.sandbox: bwrap}) the process sees, read-only, {@code /usr} (the JDK, the C library),
 * the few files of {@code /etc} a JVM and a resolver need, and exactly the files its {@link Launch}
 * names (its jars, under {@code /ferry}); a private {@code /tmp} of {@code tmpMb}; a {@code /proc}
 * of its own pid namespace; the host's network (services are reached on loopback). It runs as uid
 * {@value #UID}: when the platform runs as root, {@code setpriv} drops to it inside the sandbox
 * (all capabilities gone, no new privileges); otherwise a user namespace maps it to the platform's
 * user, apart from the platform's processes. Then {@code prlimit} sets its open files, the size of
 * any file it writes and no core dumps, and a cgroup made for it (entered before it starts) caps
 * its resident memory, processes and CPU weight. What this host cannot enforce is in
 * {@link #report()} and logged once when the sandbox is opened.
 */
public final class Sandbox {

  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

  /** The user sandboxed processes run as (nobody). */
  public static final int UID = 65534, GID = 65534;
  /** Where a sandboxed process finds the files its launch names. */
  public static final String INSIDE = "/ferry";
  /** The entries of /etc a JVM, its TLS and a resolver read; each bound read-only where the host has it. */
  private static final List<String> ETC = List.of("resolv.conf", "hosts", "nsswitch.conf", "host.conf", "gai.conf", "localtime",
      "timezone", "ssl", "ca-certificates", "alternatives", "mime.types");
  /** The top-level directories a merged-/usr system links into /usr (others bind them). */
  private static final List<String> ROOT_DIRS = List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32");
  private static final String ENTER_CGROUPS = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";
  /** The exit status of a sandboxed process that could not enter its cgroup. */
  public static final int CGROUP_FAILED = 125;

  private final boolean bwrap;
  private final String bwrapPath;
  private final String version;
  private final long platformUid;
  private final String setpriv;
  private final String prlimit;
  private final Cgroups cgroups;
  private final String java;
  /** The read-only system part of every bwrap command line, and the paths it shows. */
  private final List<String> system = new ArrayList<>();
  private final Set<Path> shown = new LinkedHashSet<>();
  private final Map<String, String> enforced = new LinkedHashMap<>();
  private final Map<String, String> unenforced = new LinkedHashMap<>();

  private Sandbox(boolean bwrap, String bwrapPath, String version, long platformUid, String setpriv, String prlimit, Cgroups cgroups) {
    this.bwrap = bwrap;
    this.bwrapPath = bwrapPath;
    this.version = version;
    this.platformUid = platformUid;
    this.setpriv = setpriv;
    this.prlimit = prlimit;
    this.cgroups = cgroups;
    this.java = javaBinary();
  }

  /**
   * Opens the sandbox {@code config} asks for, for a platform whose data dir is {@code dataDir}:
   * fails, saying what to do, when it asks for bubblewrap and this host cannot run it, or when the
   * data dir lies where every sandbox can see it. Logs, once, what it enforces and what it cannot.
   */
  public static Sandbox open(RunConfig config, Path dataDir) {
    Sandbox s = open(config.sandbox(), dataDir, Cgroups.detect(), platformUid());
    s.logReport();
    s.sweep();
    return s;
  }

  /** For tests: a sandbox for a platform running as {@code uid}, with {@code cgroups}; logs nothing. */
  static Sandbox open(String mode, Path dataDir, Cgroups cgroups, long uid) {
    String prlimit = which("prlimit");
    if (mode.equals("none")) {
      Sandbox s = new Sandbox(false, null, "none", uid, null, prlimit, cgroups);
      s.describe();
      return s;
    }
    String bwrap = which("bwrap");
    if (bwrap == null) {
      throw new IllegalStateException("run.sandbox is bwrap, but bubblewrap is not installed: install it (Debian and Ubuntu: "
          + "apt-get install bubblewrap; Fedora: dnf install bubblewrap), or set run.sandbox to none to run services' code "
          + "unsandboxed, as the platform's user (only for code you would run in your own process)");
    }
    String setpriv = null;
    if (uid == 0) {
      setpriv = which("setpriv");
      if (setpriv == null) {
        throw new IllegalStateException("The platform runs as root and setpriv (util-linux) is not installed: it is needed to run "
            + "services as uid " + UID + " inside the sandbox. Install util-linux, or better, run the platform as an unprivileged user");
      }
    }
    String version = run(List.of(bwrap, "--version")).strip();
    Sandbox s = new Sandbox(true, bwrap, version.isEmpty() ? "bwrap" : version, uid, setpriv, prlimit, cgroups);
    s.systemBinds();
    s.refuseIfShown(dataDir, "The data dir");
    s.probe();
    s.describe();
    return s;
  }

  /** Whether bubblewrap is on this host's PATH. */
  public static boolean bwrapInstalled() {
    return which("bwrap") != null;
  }

  /** Whether processes run in a bubblewrap sandbox (else only rlimits and cgroups apply). */
  public boolean sandboxed() {
    return bwrap;
  }

  /** The {@code java} to run, the same path inside a sandbox and out. */
  public String java() {
    return java;
  }

  /** A new launch of a process called {@code name} (unique among live ones: it names its cgroup) with {@code limits}. */
  public Launch launch(String name, Limits limits) {
    return new Launch(name, limits);
  }

  /** Removes what {@code name}'s launch made (its cgroup), once its processes have ended; does not wait. */
  public void release(String name) {
    RELEASER.execute(() -> cgroups.remove(name));
  }

  /** Removes groups left by processes whose end went unseen (a platform killed before them); done once at start. */
  void sweep() {
    cgroups.sweep();
  }

  private static final Executor RELEASER = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "ferry-sandbox-release");
    t.setDaemon(true);
    return t;
  });

  /** Why the kernel killed {@code name}'s process, when it was its cgroup's memory limit. */
  public Optional<String> killedFor(String name, Limits limits) {
    return cgroups.oomKilled(name) ? Optional.of("the kernel killed it: its resident memory reached its limit of "
        + limits.rssMb() + " MB (run.rssMb, ferry.rssMb)") : Optional.empty();
  }

  /** How many processes and threads {@code name}'s cgroup holds now (-1 without a pids cgroup). */
  public long processes(String name) {
    return cgroups.pidsCurrent(name);
  }

  /**
   * What confines tenant code on this host: the sandbox, the user, each limit with what enforces it,
   * and each limit this host cannot enforce with why ({@code unenforced}).
   */
  public JsonObject report() {
    JsonObject e = new JsonObject(), u = new JsonObject();
    enforced.forEach(e::put);
    unenforced.forEach(u::put);
    return new JsonObject().put("sandbox", bwrap ? version : "none").put("user", user()).put("cgroups", cgroups.version())
        .put("enforced", e).put("unenforced", u);
  }

  /** The limits this host cannot enforce, with why. */
  public Map<String, String> unenforced() {
    return Map.copyOf(unenforced);
  }

  private String user() {
    if (!bwrap) return "the platform's (uid " + platformUid + ")";
    if (platformUid == 0) return "uid " + UID + " (setpriv inside the sandbox: the platform runs as root)";
    return "uid " + UID + " in a user namespace of its own (uid " + platformUid + ", the platform's, outside)";
  }

  private void describe() {
    if (bwrap) {
      enforced.put("fileSystem", "bubblewrap: read-only /usr, " + String.join(", ", etcShown()) + " and the process's own jars; no data dir, "
          + "no home; a /proc of its own pid namespace");
      enforced.put("user", user());
      enforced.put("tmp", "a private tmpfs /tmp of run.tmpMb");
    } else {
      unenforced.put("fileSystem", "run.sandbox is none: services see and may change every file the platform's user can, the data dir included");
      unenforced.put("user", platformUid == 0 ? "run.sandbox is none: services run as root, the platform's user"
          : "run.sandbox is none: services run as the platform's user (uid " + platformUid + ")");
      unenforced.put("tmp", "run.sandbox is none: /tmp is a directory on the host's disk, without a size limit");
    }
    enforced.put("heap", "-Xmx (run.memoryMb, ferry.memoryMb)");
    limit("rss", Cgroups.MEMORY, "resident memory (run.rssMb)");
    if (cgroups.has(Cgroups.PIDS)) {
      enforced.put("processes", "cgroup " + cgroups.version() + " pids.max (run.maxProcesses)");
    } else if (bwrap && platformUid == 0 && prlimit != null) {
      enforced.put("processes", "RLIMIT_NPROC (run.maxProcesses), counted per user: every sandboxed process runs as uid " + UID
          + ", so they share it");
      unenforced.put("processesPerRunner", "no pids cgroup (" + cgroups.missing().get(Cgroups.PIDS) + "): RLIMIT_NPROC counts the "
          + "processes of every runner together");
    } else {
      unenforced.put("processes", "no pids cgroup (" + cgroups.missing().get(Cgroups.PIDS) + ")"
          + (!bwrap || platformUid != 0 ? ", and RLIMIT_NPROC would count the platform's own threads with the runners'"
          : ", and prlimit (util-linux) is not installed"));
    }
    if (prlimit != null) {
      enforced.put("openFiles", "RLIMIT_NOFILE (run.maxOpenFiles)");
      enforced.put("fileSize", "RLIMIT_FSIZE: no file written larger than run.tmpMb (its JVM's output included)");
    } else {
      unenforced.put("openFiles", "prlimit (util-linux) is not installed");
      unenforced.put("fileSize", "prlimit (util-linux) is not installed");
    }
    limit("cpu", Cgroups.CPU, "CPU weight (run.cpuShares)");
  }

  private void limit(String key, String controller, String what) {
    if (cgroups.has(controller)) enforced.put(key, "cgroup " + cgroups.version() + " " + controller + ": " + what);
    else unenforced.put(key, "no " + controller + " cgroup: " + cgroups.missing().getOrDefault(controller, "not available"));
  }

  void logReport() {
    log.info("Sandbox for services and annotation processors: {}, as {}; enforced: {}", bwrap ? version : "none", user(),
        String.join(", ", enforced.keySet()));
    unenforced.forEach((k, why) -> log.warn("Not enforced on this host: {}: {}", k, why));
  }

  // ---- the system part -------------------------------------------------------------------------

  private List<String> etcShown() {
    return shown.stream().map(Path::toString).filter(p -> p.startsWith("/etc/")).toList();
  }

  /** /usr, the top-level links into it, /etc's entries, the JDK and what its links point to. */
  private void systemBinds() {
    system.addAll(List.of("--ro-bind", "/usr", "/usr"));
    shown.add(Path.of("/usr"));
    for (String d : ROOT_DIRS) {
      Path p = Path.of("/", d);
      try {
        if (Files.isSymbolicLink(p)) {
          system.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), p.toString()));
        } else if (Files.isDirectory(p)) {
          system.addAll(List.of("--ro-bind", p.toString(), p.toString()));
          shown.add(p);
        }
      } catch (IOException e) {
        // not there
      }
    }
    Set<String> dirs = new TreeSet<>(List.of("/etc"));
    List<String> binds = new ArrayList<>();
    Set<Path> etc = new LinkedHashSet<>();
    for (String name : ETC) etc.add(Path.of("/etc", name));
    Path home = Path.of(java).getParent().getParent();
    if (!home.startsWith("/usr")) {
      addParents(home, dirs);
      binds.addAll(List.of("--ro-bind", home.toString(), home.toString()));
      shown.add(home);
    }
    // Debian's JDK links its conf and cacerts into /etc
    try (Stream<Path> s = Files.walk(home)) {
      for (Path link : s.filter(Files::isSymbolicLink).toList()) {
        Path target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
        if (target.startsWith(home) || target.startsWith("/usr")) continue;
        if (target.startsWith("/etc") && target.getNameCount() >= 2) etc.add(Path.of("/etc", target.getName(1).toString()));
        else if (target.getParent() != null) {
          addParents(target.getParent(), dirs);
          binds.addAll(List.of("--ro-bind-try", target.getParent().toString(), target.getParent().toString()));
          shown.add(target.getParent());
        }
      }
    } catch (IOException e) {
      log.debug("Could not read the JDK's links: {}", e.toString());
    }
    for (Path p : etc) {
      if (!Files.exists(p)) continue;
      binds.addAll(List.of("--ro-bind", p.toString(), p.toString()));
      shown.add(p);
    }
    for (String d : dirs) system.addAll(List.of("--perms", "0755", "--dir", d));
    system.addAll(binds);
    system.addAll(List.of("--proc", "/proc", "--dev", "/dev"));
  }

  private static void addParents(Path p, Set<String> dirs) {
    for (Path q = p.getParent(); q != null && q.getNameCount() > 0; q = q.getParent()) dirs.add(q.toString());
  }

  /** Refuses a platform whose {@code path} (the data dir) every sandbox would show. */
  private void refuseIfShown(Path path, String what) {
    Path real;
    try {
      real = path.toAbsolutePath().normalize();
      if (Files.exists(real)) real = real.toRealPath();
    } catch (IOException e) {
      return;
    }
    for (Path p : shown) {
      if (real.startsWith(p)) {
        throw new IllegalStateException(what + " " + real + " is inside " + p + ", which every sandbox shows read-only: move it elsewhere");
      }
    }
  }

  /** Runs {@code java -version} sandboxed: bubblewrap works here, and the JDK runs inside. */
  private void probe() {
    Launch l = launch("probe-" + ProcessHandle.current().pid() + "-" + System.nanoTime(), new Limits(64, 256, 8, 64, 256, 1024));
    List<String> cmd;
    try {
      cmd = l.command(List.of(java, "-Xshare:auto", "-Xmx32m", "-version"), false);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot prepare the sandbox probe: " + e, e);
    }
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out;
      try (var in = p.getInputStream()) {
        out = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("bubblewrap did not run java -version within 30 s: " + out);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("bubblewrap cannot run services on this host (run.sandbox is bwrap): java -version in the sandbox "
            + "exited with status " + p.exitValue() + ": " + out.strip() + ". Unprivileged user namespaces may be off "
            + "(sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces, or an AppArmor policy)");
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot run bubblewrap (" + bwrapPath + "): " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      release(l.name);
    }
  }

  // ---- one launch ------------------------------------------------------------------------------

  /**
   * The files one process is given, named as it will see them, then its command. Without
   * bubblewrap, every file is seen at its own path.
   */
  public final class Launch {

    private final String name;
    private final Limits limits;
    private final List<String> binds = new ArrayList<>();
    private final Set<String> dirs = new TreeSet<>(List.of(INSIDE));
    private int files;

    private Launch(String name, Limits limits) {
      if (!name.matches("[A-Za-z0-9_.-]{1,100}")) throw new IllegalArgumentException("bad launch name " + name);
      this.name = name;
      this.limits = limits;
    }

    public String name() {
      return name;
    }

    public Limits limits() {
      return limits;
    }

    /** Shows {@code file} read-only; returns its path inside ({@code /ferry/<dir>/<n>-<name>}). */
    public String readOnly(Path file, String dir) {
      if (!bwrap) return file.toAbsolutePath().toString();
      String inside = INSIDE + "/" + dir + "/" + (files++) + "-" + file.getFileName();
      dirs.add(INSIDE + "/" + dir);
      binds.addAll(List.of("--ro-bind", file.toAbsolutePath().toString(), inside));
      return inside;
    }

    /** Shows directory {@code dir} read-only as {@code /ferry/<as>}, what is added to it later included. */
    public String readOnlyDir(Path dir, String as) {
      if (!bwrap) return dir.toAbsolutePath().toString();
      binds.addAll(List.of("--ro-bind", dir.toAbsolutePath().toString(), INSIDE + "/" + as));
      return INSIDE + "/" + as;
    }

    /** Shows directory {@code dir} writable as {@code /ferry/<as>} (only for the platform's own runs, never a tenant's). */
    public String writableDir(Path dir, String as) throws IOException {
      if (!bwrap) return dir.toAbsolutePath().toString();
      if (platformUid == 0) Files.setAttribute(dir, "unix:uid", UID);
      binds.addAll(List.of("--bind", dir.toAbsolutePath().toString(), INSIDE + "/" + as));
      return INSIDE + "/" + as;
    }

    /** Its temp dir: {@code /tmp} inside, else {@code hostDir} (made). */
    public String tmp(Path hostDir) throws IOException {
      if (bwrap) return "/tmp";
      Files.createDirectories(hostDir);
      return hostDir.toAbsolutePath().toString();
    }

    /**
     * The command that runs {@code command} (a {@code java} command line using the paths this
     * launch returned) sandboxed with its limits. Makes its cgroup, which the process enters
     * before anything else runs.
     */
    public List<String> command(List<String> command) throws IOException {
      return command(command, true);
    }

    List<String> command(List<String> command, boolean withCgroups) throws IOException {
      List<String> cmd = new ArrayList<>();
      List<Path> procs = withCgroups ? cgroups.create(name, limits) : List.of();
      if (!procs.isEmpty()) {
        cmd.addAll(List.of("/bin/sh", "-c", ENTER_CGROUPS, "ferry-cgroup"));
        procs.forEach(p -> cmd.add(p.toString()));
        cmd.add("--");
      }
      if (bwrap) {
        cmd.add(bwrapPath);
        cmd.addAll(List.of("--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"));
        if (platformUid != 0) {
          cmd.addAll(List.of("--unshare-user", "--uid", String.valueOf(UID), "--gid", String.valueOf(GID), "--disable-userns"));
        }
        cmd.addAll(system);
        cmd.addAll(List.of("--perms", "1777", "--size", String.valueOf(limits.tmpMb() * 1024L * 1024L), "--tmpfs", "/tmp"));
        for (String d : dirs) cmd.addAll(List.of("--perms", "0755", "--dir", d));
        cmd.addAll(binds);
        cmd.addAll(List.of("--chdir", "/tmp", "--"));
        if (platformUid == 0) {
          cmd.addAll(List.of(setpriv, "--reuid=" + UID, "--regid=" + GID, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
              "--no-new-privs", "--"));
        }
      }
      if (prlimit != null) {
        long fsize = limits.tmpMb() * 1024L * 1024L;
        cmd.addAll(List.of(prlimit, "--nofile=" + limits.maxOpenFiles() + ":" + limits.maxOpenFiles(), "--fsize=" + fsize + ":" + fsize,
            "--core=0:0"));
        // per user: only where every sandboxed process has a user of its own and no pids cgroup counts them
        if (bwrap && platformUid == 0 && !cgroups.has(Cgroups.PIDS)) {
          cmd.add("--nproc=" + limits.maxProcesses() + ":" + limits.maxProcesses());
        }
        cmd.add("--");
      }
      cmd.addAll(command);
      return cmd;
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** SIGKILL to {@code p} and every process under it (a bubblewrap sandbox ends with the init of its pid namespace). */
  public static void kill(Process p) {
    killTree(p.toHandle());
  }

  /**
   * SIGKILL to the process {@code h} is and every process under it, if it still runs: a handle
   * knows its process's start time, so a pid given to another process since is left alone.
   */
  public static void killTree(ProcessHandle h) {
    if (h == null || !h.isAlive()) return;
    h.descendants().forEach(ProcessHandle::destroyForcibly);
    h.destroyForcibly();
  }

  /** The process {@code pid} if it is the one that started at {@code startMillis} (epoch ms; -1: unknown, not trusted). */
  public static Optional<ProcessHandle> process(long pid, long startMillis) {
    if (pid <= 0 || startMillis < 0) return Optional.empty();
    return ProcessHandle.of(pid).filter(h -> startMillis(h) == startMillis);
  }

  /** When {@code h}'s process started (epoch ms), -1 if unknown. */
  public static long startMillis(ProcessHandle h) {
    return h.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
  }

  private static String javaBinary() {
    Path p = Path.of(System.getProperty("java.home"), "bin", "java");
    try {
      return p.toRealPath().toString();
    } catch (IOException e) {
      return p.toString();
    }
  }

  /** The platform's real uid, from /proc/self/status (-1 where there is none). */
  static long platformUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  /** {@code tool} on the platform's PATH ({@code /usr/bin:/bin} when it has none), or null. */
  static String which(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (d.isEmpty()) continue;
      Path p = Path.of(d, tool);
      if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p)) {
        if (Files.isExecutable(p)) return p.toAbsolutePath().toString();
      }
    }
    return null;
  }

  private static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
