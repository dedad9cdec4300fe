package dev.ferry.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A cgroup per sandboxed process, for the limits rlimits cannot set per process: resident memory
 * ({@code memory}), processes and threads ({@code pids}) and CPU weight ({@code cpu}). Works with
 * cgroup v1 (a hierarchy per controller) and v2 (one hierarchy), each controller only where this
 * host lets the platform write it; {@link #missing()} says which it does not. The groups,
 * {@code ferry-<name>}, are made beside the platform's own processes: in its own group (v1), at
 * the hierarchy's root (v2). Not nested in a common parent: a group competes for CPU with the
 * threads beside it as one, so runners in one parent would together weigh as one thread of the
 * host's; each weighs one now, however many threads it runs.
 */
abstract class Cgroups {

  private static final Logger log = LoggerFactory.getLogger(Cgroups.class);
  static final String MEMORY = "memory", PIDS = "pids", CPU = "cpu";
  static final List<String> CONTROLLERS = List.of(MEMORY, PIDS, CPU);

  /** {@code v1}, {@code v2} or {@code none}. */
  abstract String version();

  /** Whether {@code controller} can be set here. */
  abstract boolean has(String controller);

  /** Why each controller this host does not give is missing. */
  abstract Map<String, String> missing();

  /**
   * Makes group {@code name} with {@code limits}; returns the {@code cgroup.procs} files a process
   * writes its pid to, to enter it (before it runs anything else).
   */
  abstract List<Path> create(String name, Limits limits) throws IOException;

  /** Removes group {@code name} once its processes are gone (quietly, retrying for a while). */
  abstract void remove(String name);

  /** The directories groups are made in (one per controller in v1). */
  abstract List<Path> bases();

  /**
   * Removes the groups left empty by processes whose end went unseen (a platform killed, say):
   * only those older than a minute, so a group just made, not yet entered, is left alone.
   */
  void sweep() {
    long before = System.currentTimeMillis() - 60_000;
    for (Path base : bases()) {
      try (var dirs = Files.list(base)) {
        for (Path g : dirs.filter(d -> d.getFileName().toString().startsWith("ferry-") && Files.isDirectory(d)).toList()) {
          try {
            if (Files.getLastModifiedTime(g).toMillis() < before && Files.readString(g.resolve("cgroup.procs")).isBlank()) Files.delete(g);
          } catch (IOException | RuntimeException busyOrGone) {
            // in use, or removed meanwhile
          }
        }
      } catch (IOException | RuntimeException e) {
        log.debug("Could not list {}: {}", base, e.toString());
      }
    }
  }

  /** Whether the kernel killed a process of group {@code name} for its memory limit. */
  abstract boolean oomKilled(String name);

  /** The processes and threads of group {@code name} now, or -1. */
  abstract long pidsCurrent(String name);

  /** Detects what this host offers, probing each controller by making (and removing) a group. */
  static Cgroups detect() {
    try {
      List<String> mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo"));
      List<String> own = Files.readAllLines(Path.of("/proc/self/cgroup"));
      Map<String, String> why = new LinkedHashMap<>();
      CgroupsV1 v1 = CgroupsV1.detect(mountinfo, own, why);
      if (!v1.dirs.isEmpty()) {
        for (String c : CONTROLLERS) if (!v1.has(c) && !why.containsKey(c)) why.put(c, "no cgroup v1 hierarchy for " + c);
        v1.why.putAll(why);
        return v1;
      }
      CgroupsV2 v2 = CgroupsV2.detect(mountinfo, why);
      if (v2 != null) return v2;
      return new None(why.isEmpty() ? "no writable cgroup hierarchy" : String.join("; ", new java.util.LinkedHashSet<>(why.values())));
    } catch (IOException | RuntimeException e) {
      return new None("cannot read this host's cgroups: " + e);
    }
  }

  static Cgroups none(String why) {
    return new None(why);
  }

  // ---- helpers -------------------------------------------------------------------------------

  static void write(Path file, String value) throws IOException {
    Files.writeString(file, value);
  }

  /** Mount points of {@code fstype} from mountinfo: mount root, mount point, super options. */
  record Mount(String root, Path point, List<String> options) {
  }

  static List<Mount> mounts(List<String> mountinfo, String fstype) {
    List<Mount> out = new ArrayList<>();
    for (String line : mountinfo) {
      int dash = line.indexOf(" - ");
      if (dash < 0) continue;
      String[] pre = line.substring(0, dash).split(" ");
      String[] post = line.substring(dash + 3).split(" ");
      if (post.length < 3 || !post[0].equals(fstype) || pre.length < 5) continue;
      out.add(new Mount(unescape(pre[3]), Path.of(unescape(pre[4])), List.of(post[2].split(","))));
    }
    return out;
  }

  static String unescape(String s) {
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }

  /** {@code path} (a group of a hierarchy) on disk under a mount of that hierarchy's {@code root}. */
  static Path onDisk(Mount m, String path) {
    String rel = path;
    if (!m.root.equals("/") && rel.startsWith(m.root)) rel = rel.substring(m.root.length());
    rel = rel.replaceAll("^/+", "");
    return rel.isEmpty() ? m.point : m.point.resolve(rel);
  }

  /** The directory name of group {@code name}. */
  static String group(String name) {
    return "ferry-" + name;
  }

  static void removeDir(Path dir) {
    // a killed process tree may take a while to leave its group on a busy host
    for (int i = 0; i < 250 && Files.isDirectory(dir); i++) {
      try {
        Files.delete(dir);
        return;
      } catch (IOException busy) {
        // its last process is still exiting
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
    if (Files.isDirectory(dir)) log.debug("Could not remove cgroup {}", dir);
  }

  // ---- none ----------------------------------------------------------------------------------

  private static final class None extends Cgroups {
    final String why;

    None(String why) {
      this.why = why;
    }

    @Override String version() { return "none"; }
    @Override boolean has(String controller) { return false; }

    @Override
    Map<String, String> missing() {
      Map<String, String> m = new LinkedHashMap<>();
      for (String c : CONTROLLERS) m.put(c, why);
      return m;
    }

    @Override List<Path> create(String name, Limits limits) { return List.of(); }
    @Override void remove(String name) { }
    @Override List<Path> bases() { return List.of(); }
    @Override boolean oomKilled(String name) { return false; }
    @Override long pidsCurrent(String name) { return -1; }
  }
}
