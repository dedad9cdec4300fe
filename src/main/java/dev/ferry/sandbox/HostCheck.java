package dev.ferry.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The check that bubblewrap runs {@code java} on this host as the platform would run it (a
 * sandboxed {@code java -version}), and the data dir's record that it passed. A platform restarted
 * on an unchanged host trusts the record and skips the check: {@code bwrap --version} and the probe
 * are two process launches, which took 0.4–0.5 s of a restart on two cores, beside the proxy's
 * first answers. The record is keyed on everything the check depends on: the boot, the kernel and
 * its user-namespace settings, the tools' and the JDK's files (path, size, time), the platform's
 * uid, the cgroup controllers and the sandbox's command line; any change and the check runs again.
 * A host broken since in a way none of these shows fails at the next runner's start, in that
 * deployment's log.
 */
final class HostCheck {

  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
  /** The kernel's files the check depends on; each read as it is, or "-" where there is none. */
  private static final List<String> KERNEL = List.of("/proc/sys/kernel/random/boot_id", "/proc/sys/kernel/osrelease",
      "/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/user/max_user_namespaces",
      "/proc/sys/kernel/apparmor_restrict_unprivileged_userns");

  private final Sandbox sandbox;
  private final Path file;
  /** What the check depends on, one fact a line: the record's lines before its last (the version). */
  private final List<String> key;

  private HostCheck(Sandbox sandbox, Path file, List<String> key) {
    this.sandbox = sandbox;
    this.file = file;
    this.key = key;
  }

  /** The check of {@code sandbox} (its system binds made), recorded in {@code dataDir}. */
  static HostCheck of(Sandbox sandbox, Path dataDir) {
    Cgroups cgroups = sandbox.cgroups;
    List<String> lines = new ArrayList<>(List.of("uid " + sandbox.platformUid,
        "cgroups " + cgroups.version() + " " + Stream.of(Cgroups.MEMORY, Cgroups.PIDS, Cgroups.CPU).filter(cgroups::has).toList(),
        "args " + String.join(" ", sandbox.system.args())));
    for (String k : KERNEL) lines.add(k + " " + read(Path.of(k)));
    Path home = Path.of(System.getProperty("java.home"));
    for (String tool : Arrays.asList(sandbox.bwrapPath, sandbox.setpriv, sandbox.prlimit, sandbox.java(),
        home.resolve("lib/server/libjvm.so").toString(), home.resolve("release").toString())) {
      lines.add(tool == null ? "-" : identity(Path.of(tool)));
    }
    return new HostCheck(sandbox, dataDir.resolve("sandbox-checked"), List.copyOf(lines));
  }

  /** Runs the check and records it once it passed; returns bubblewrap's version. Throws, saying why, where it fails. */
  String run() {
    String version = Host.run(List.of(sandbox.bwrapPath, "--version")).strip();
    probe();
    if (version.isEmpty()) version = "bwrap";
    save(version);
    return version;
  }

  /** The bubblewrap version a check of the same host recorded, if one did. */
  Optional<String> passedBefore() {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return lines.size() == key.size() + 1 && lines.subList(0, key.size()).equals(key) ? Optional.of(lines.get(key.size())) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Runs {@code java -version} sandboxed: bubblewrap works here, and the JDK runs inside. Its
   * process limit is no check: without a pids cgroup, {@code RLIMIT_NPROC} counts every process of
   * the sandbox's user, and runners that outlived the last platform must not keep this one from starting.
   */
  private void probe() {
    Launch l = sandbox.launch("probe-" + ProcessHandle.current().pid() + "-" + System.nanoTime(), new Limits(64, 256, 8, Limits.NO_PROCESS_LIMIT, 256, 1024));
    List<String> cmd;
    try {
      cmd = l.command(List.of(sandbox.java(), "-Xshare:auto", "-Xmx32m", "-version"), false);
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
      throw new IllegalStateException("Cannot run bubblewrap (" + sandbox.bwrapPath + "): " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      sandbox.release(l.name());
    }
  }

  /** Records a check that passed, with bubblewrap's version; where the data dir cannot hold it, the next start checks again. */
  private void save(String version) {
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      List<String> lines = new ArrayList<>(key);
      lines.add(version.replace('\n', ' '));
      Files.write(tmp, lines, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.debug("Could not record the sandbox's check in {}: {}", file, e.toString());
    }
  }

  private static String identity(Path p) {
    try {
      Path real = p.toRealPath();
      return real + " " + Files.size(real) + " " + Files.getLastModifiedTime(real).toMillis();
    } catch (IOException e) {
      return p + " -";
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "-";
    }
  }
}
