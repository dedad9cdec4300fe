package dev.ferry.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The files one process is given, named as it will see them, then its command. Without
 * bubblewrap, every file is seen at its own path.
 */
public final class Launch {

  private final Sandbox sandbox;
  private final String name;
  private final Limits limits;
  private final List<String> binds = new ArrayList<>();
  private final Set<String> dirs = new TreeSet<>(List.of(Sandbox.INSIDE));
  private int files;

  Launch(Sandbox sandbox, String name, Limits limits) {
    this.sandbox = sandbox;
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
    if (!sandbox.bwrap) return file.toAbsolutePath().toString();
    String inside = Sandbox.INSIDE + "/" + dir + "/" + (files++) + "-" + file.getFileName();
    dirs.add(Sandbox.INSIDE + "/" + dir);
    binds.addAll(List.of("--ro-bind", file.toAbsolutePath().toString(), inside));
    return inside;
  }

  /** Shows directory {@code dir} read-only as {@code /ferry/<as>}, what is added to it later included. */
  public String readOnlyDir(Path dir, String as) {
    if (!sandbox.bwrap) return dir.toAbsolutePath().toString();
    binds.addAll(List.of("--ro-bind", dir.toAbsolutePath().toString(), Sandbox.INSIDE + "/" + as));
    return Sandbox.INSIDE + "/" + as;
  }

  /** Shows directory {@code dir} writable as {@code /ferry/<as>} (only for the platform's own runs, never a tenant's). */
  public String writableDir(Path dir, String as) throws IOException {
    if (!sandbox.bwrap) return dir.toAbsolutePath().toString();
    if (sandbox.platformUid == 0) Files.setAttribute(dir, "unix:uid", Sandbox.UID);
    binds.addAll(List.of("--bind", dir.toAbsolutePath().toString(), Sandbox.INSIDE + "/" + as));
    return Sandbox.INSIDE + "/" + as;
  }

  /** Its temp dir: {@code /tmp} inside, else {@code hostDir} (made). */
  public String tmp(Path hostDir) throws IOException {
    if (sandbox.bwrap) return "/tmp";
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
    List<Path> procs = withCgroups ? sandbox.cgroups.create(name, limits) : List.of();
    if (!procs.isEmpty()) {
      cmd.addAll(List.of("/bin/sh", "-c", Sandbox.ENTER_CGROUPS, "ferry-cgroup"));
      procs.forEach(p -> cmd.add(p.toString()));
      cmd.add("--");
    }
    if (sandbox.bwrap) {
      cmd.add(sandbox.bwrapPath);
      cmd.addAll(List.of("--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"));
      if (sandbox.platformUid != 0) {
        cmd.addAll(List.of("--unshare-user", "--uid", String.valueOf(Sandbox.UID), "--gid", String.valueOf(Sandbox.GID), "--disable-userns"));
      }
      cmd.addAll(sandbox.system.args());
      cmd.addAll(List.of("--perms", "1777", "--size", String.valueOf(limits.tmpMb() * 1024L * 1024L), "--tmpfs", "/tmp"));
      for (String d : dirs) cmd.addAll(List.of("--perms", "0755", "--dir", d));
      cmd.addAll(binds);
      cmd.addAll(List.of("--chdir", "/tmp", "--"));
      if (sandbox.platformUid == 0) {
        cmd.addAll(List.of(sandbox.setpriv, "--reuid=" + Sandbox.UID, "--regid=" + Sandbox.GID, "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--"));
      }
    }
    if (sandbox.prlimit != null) {
      long fsize = limits.tmpMb() * 1024L * 1024L;
      cmd.addAll(List.of(sandbox.prlimit, "--nofile=" + limits.maxOpenFiles() + ":" + limits.maxOpenFiles(), "--fsize=" + fsize + ":" + fsize,
          "--core=0:0"));
      // per user: only where every sandboxed process has a user of its own and no pids cgroup counts them
      if (sandbox.bwrap && sandbox.platformUid == 0 && !sandbox.cgroups.has(Cgroups.PIDS) && limits.maxProcesses() != Limits.NO_PROCESS_LIMIT) {
        cmd.add("--nproc=" + limits.maxProcesses() + ":" + limits.maxProcesses());
      }
      cmd.add("--");
    }
    cmd.addAll(command);
    return cmd;
  }
}
