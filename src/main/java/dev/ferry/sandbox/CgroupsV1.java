package dev.ferry.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Cgroup v1: a hierarchy per controller, groups made in the platform's own group of each. */
final class CgroupsV1 extends Cgroups {
  /** The writable base group of each controller this host gives. */
  final Map<String, Path> dirs = new HashMap<>();
  final Map<String, String> why = new LinkedHashMap<>();

  static CgroupsV1 detect(List<String> mountinfo, List<String> own, Map<String, String> why) {
    CgroupsV1 v1 = new CgroupsV1();
    Map<String, String> ownPaths = new HashMap<>();
    for (String line : own) {
      String[] f = line.split(":", 3);
      if (f.length == 3 && !f[1].isEmpty()) for (String c : f[1].split(",")) ownPaths.put(c, f[2]);
    }
    for (Mount m : mounts(mountinfo, "cgroup")) {
      for (String c : CONTROLLERS) {
        if (!m.options().contains(c) || v1.dirs.containsKey(c)) continue;
        Path base = onDisk(m, ownPaths.getOrDefault(c, "/"));
        Optional<String> refused = probe(base, c);
        if (refused.isEmpty()) v1.dirs.put(c, base);
        else why.put(c, "cgroup v1 " + c + " is not writable here (" + refused.get() + ")");
      }
    }
    return v1;
  }

  /** Makes {@code base} and a group under it, sets a limit, removes the group. */
  private static Optional<String> probe(Path base, String controller) {
    Path p = base.resolve(group("probe-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
    try {
      Files.createDirectories(p);
      switch (controller) {
        case MEMORY -> write(p.resolve("memory.limit_in_bytes"), "-1");
        case PIDS -> write(p.resolve("pids.max"), "max");
        default -> write(p.resolve("cpu.shares"), "1024");
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of(e.toString());
    } finally {
      removeDir(p);
    }
  }

  @Override String version() { return "v1"; }
  @Override boolean has(String controller) { return dirs.containsKey(controller); }
  @Override Map<String, String> missing() { return why; }

  @Override
  List<Path> create(String name, Limits limits) throws IOException {
    List<Path> procs = new ArrayList<>();
    for (Map.Entry<String, Path> e : dirs.entrySet()) {
      Path g = e.getValue().resolve(group(name));
      Files.createDirectories(g);
      switch (e.getKey()) {
        case MEMORY -> {
          long bytes = limits.rssMb() * 1024L * 1024L;
          write(g.resolve("memory.limit_in_bytes"), String.valueOf(bytes));
          // where swap is accounted, no swap beyond it either
          Path memsw = g.resolve("memory.memsw.limit_in_bytes");
          if (Files.exists(memsw)) write(memsw, String.valueOf(bytes));
        }
        case PIDS -> write(g.resolve("pids.max"), String.valueOf(limits.maxProcesses()));
        default -> write(g.resolve("cpu.shares"), String.valueOf(limits.cpuShares()));
      }
      procs.add(g.resolve("cgroup.procs"));
    }
    return procs;
  }

  @Override
  void remove(String name) {
    dirs.values().forEach(d -> removeDir(d.resolve(group(name))));
  }

  @Override
  List<Path> bases() {
    return List.copyOf(dirs.values());
  }

  @Override
  boolean oomKilled(String name) {
    Path base = dirs.get(MEMORY);
    if (base == null) return false;
    try {
      for (String line : Files.readAllLines(base.resolve(group(name)).resolve("memory.oom_control"))) {
        if (line.startsWith("oom_kill ") && Long.parseLong(line.substring(9).trim()) > 0) return true;
      }
      // kernels before 4.13 have no oom_kill count: the limit was hit
      return Long.parseLong(Files.readString(base.resolve(group(name)).resolve("memory.failcnt")).trim()) > 0
          && Files.readAllLines(base.resolve(group(name)).resolve("memory.oom_control")).stream().noneMatch(l -> l.startsWith("oom_kill "));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  @Override
  long pidsCurrent(String name) {
    Path base = dirs.get(PIDS);
    if (base == null) return -1;
    try {
      return Long.parseLong(Files.readString(base.resolve(group(name)).resolve("pids.current")).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
