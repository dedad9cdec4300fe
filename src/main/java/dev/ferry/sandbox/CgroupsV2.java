package dev.ferry.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Cgroup v2: one hierarchy, groups made at its root. */
final class CgroupsV2 extends Cgroups {
  final Path base;
  final List<String> controllers;
  final Map<String, String> why = new LinkedHashMap<>();

  private CgroupsV2(Path base, List<String> controllers) {
    this.base = base;
    this.controllers = controllers;
  }

  /** The unified hierarchy's {@code ferry} group with the controllers it can delegate, or null. */
  static CgroupsV2 detect(List<String> mountinfo, Map<String, String> why) {
    for (Mount m : mounts(mountinfo, "cgroup2")) {
      try {
        List<String> available = List.of(Files.readString(m.point().resolve("cgroup.controllers")).trim().split("\\s+"));
        List<String> usable = CONTROLLERS.stream().filter(available::contains).toList();
        if (usable.isEmpty()) continue;
        Path base = m.point();
        StringBuilder enable = new StringBuilder();
        for (String c : usable) enable.append('+').append(c).append(' ');
        // the root hands the controllers down to its children (the root alone may have processes beside them)
        write(m.point().resolve("cgroup.subtree_control"), enable.toString().trim());
        Path probe = base.resolve(group("probe-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
        try {
          Files.createDirectories(probe);
        } finally {
          removeDir(probe);
        }
        CgroupsV2 v2 = new CgroupsV2(base, usable);
        for (String c : CONTROLLERS) if (!usable.contains(c)) v2.why.put(c, "cgroup v2 has no " + c + " controller here");
        return v2;
      } catch (IOException | RuntimeException e) {
        for (String c : CONTROLLERS) why.putIfAbsent(c, "cgroup v2 at " + m.point() + " is not writable here (" + e + ")");
      }
    }
    return null;
  }

  @Override String version() { return "v2"; }
  @Override boolean has(String controller) { return controllers.contains(controller); }
  @Override Map<String, String> missing() { return why; }

  @Override
  List<Path> create(String name, Limits limits) throws IOException {
    Path g = base.resolve(group(name));
    Files.createDirectories(g);
    if (has(MEMORY)) {
      write(g.resolve("memory.max"), String.valueOf(limits.rssMb() * 1024L * 1024L));
      Path swap = g.resolve("memory.swap.max");
      if (Files.exists(swap)) write(swap, "0");
    }
    if (has(PIDS)) write(g.resolve("pids.max"), String.valueOf(limits.maxProcesses()));
    // v1's shares (1024 the default) in v2's weights (100 the default, 1-10000)
    if (has(CPU)) write(g.resolve("cpu.weight"), String.valueOf(Math.max(1, Math.min(10_000, limits.cpuShares() * 100 / 1024))));
    return List.of(g.resolve("cgroup.procs"));
  }

  @Override
  void remove(String name) {
    removeDir(base.resolve(group(name)));
  }

  @Override
  List<Path> bases() {
    return List.of(base);
  }

  @Override
  boolean oomKilled(String name) {
    try {
      for (String line : Files.readAllLines(base.resolve(group(name)).resolve("memory.events"))) {
        if (line.startsWith("oom_kill ") && Long.parseLong(line.substring(9).trim()) > 0) return true;
      }
    } catch (IOException | RuntimeException e) {
      // no memory controller, or gone
    }
    return false;
  }

  @Override
  long pidsCurrent(String name) {
    try {
      return Long.parseLong(Files.readString(base.resolve(group(name)).resolve("pids.current")).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
