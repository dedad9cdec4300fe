package dev.ferry.sandbox;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

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
  static final String ENTER_CGROUPS = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";
  /** The exit status of a sandboxed process that could not enter its cgroup. */
  public static final int CGROUP_FAILED = 125;

  final boolean bwrap;
  final String bwrapPath;
  /** bubblewrap's version, as {@code bwrap --version} says it. */
  private String version;
  /** Whether this start ran the host check (else a record of the same host said it passed). */
  private boolean checked;
  final long platformUid;
  final String setpriv;
  final String prlimit;
  final Cgroups cgroups;
  private final String java;
  /** The read-only system part of every bwrap command line, and the paths it shows. */
  final SystemBinds system;
  private final Map<String, String> enforced = new LinkedHashMap<>();
  private final Map<String, String> unenforced = new LinkedHashMap<>();

  private Sandbox(boolean bwrap, String bwrapPath, long platformUid, String setpriv, String prlimit, Cgroups cgroups) {
    this.bwrap = bwrap;
    this.bwrapPath = bwrapPath;
    this.platformUid = platformUid;
    this.setpriv = setpriv;
    this.prlimit = prlimit;
    this.cgroups = cgroups;
    this.java = Host.javaBinary();
    this.system = new SystemBinds(java);
  }

  /**
   * Opens the sandbox {@code config} asks for, for a platform whose data dir is {@code dataDir}:
   * fails, saying what to do, when it asks for bubblewrap and this host cannot run it, or when the
   * data dir lies where every sandbox can see it. Logs, once, what it enforces and what it cannot.
   */
  public static Sandbox open(dev.ferry.settings.RunConfig config, Path dataDir) {
    Sandbox s = open(config.sandbox(), dataDir, Cgroups.detect(), Host.platformUid());
    s.logReport();
    s.sweep();
    return s;
  }

  /** For tests: a sandbox for a platform running as {@code uid}, with {@code cgroups}; logs nothing. */
  static Sandbox open(String mode, Path dataDir, Cgroups cgroups, long uid) {
    String prlimit = Host.which("prlimit");
    if (mode.equals("none")) {
      Sandbox s = new Sandbox(false, null, uid, null, prlimit, cgroups);
      s.describe();
      return s;
    }
    String bwrap = Host.which("bwrap");
    if (bwrap == null) {
      throw new IllegalStateException("run.sandbox is bwrap, but bubblewrap is not installed: install it (Debian and Ubuntu: "
          + "apt-get install bubblewrap; Fedora: dnf install bubblewrap), or set run.sandbox to none to run services' code "
          + "unsandboxed, as the platform's user (only for code you would run in your own process)");
    }
    String setpriv = null;
    if (uid == 0) {
      setpriv = Host.which("setpriv");
      if (setpriv == null) {
        throw new IllegalStateException("The platform runs as root and setpriv (util-linux) is not installed: it is needed to run "
            + "services as uid " + UID + " inside the sandbox. Install util-linux, or better, run the platform as an unprivileged user");
      }
    }
    Sandbox s = new Sandbox(true, bwrap, uid, setpriv, prlimit, cgroups);
    s.system.systemBinds();
    s.system.refuseIfShown(dataDir, "The data dir");
    HostCheck check = HostCheck.of(s, dataDir);
    Optional<String> before = check.passedBefore();
    s.checked = before.isEmpty();
    s.version = before.orElseGet(check::run);
    s.describe();
    return s;
  }

  /** Whether this start checked that bubblewrap runs java here; false where a record of the same host said so (or without bubblewrap). */
  boolean checkedNow() {
    return checked;
  }

  /** Whether bubblewrap is on this host's PATH. */
  public static boolean bwrapInstalled() {
    return Host.which("bwrap") != null;
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
    return new Launch(this, name, limits);
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
      enforced.put("fileSystem", "bubblewrap: read-only /usr, " + String.join(", ", system.etcShown()) + " and the process's own jars; no data dir, "
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
}
