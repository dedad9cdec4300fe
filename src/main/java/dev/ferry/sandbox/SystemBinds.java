package dev.ferry.sandbox;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The read-only system part of every bwrap command line: {@code /usr}, the top-level links into it,
 * the entries of {@code /etc} a JVM needs, the JDK and what its links point to; and the paths it shows.
 */
final class SystemBinds {

  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
  /** The entries of /etc a JVM, its TLS and a resolver read; each bound read-only where the host has it. */
  private static final List<String> ETC = List.of("resolv.conf", "hosts", "nsswitch.conf", "host.conf", "gai.conf", "localtime",
      "timezone", "ssl", "ca-certificates", "alternatives", "mime.types");
  /** The top-level directories a merged-/usr system links into /usr (others bind them). */
  private static final List<String> ROOT_DIRS = List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32");

  private final List<String> system = new ArrayList<>();
  private final Set<Path> shown = new LinkedHashSet<>();
  private final String java;

  SystemBinds(String java) {
    this.java = java;
  }

  /** The bwrap arguments, once {@link #systemBinds} made them. */
  List<String> args() {
    return system;
  }

  List<String> etcShown() {
    return shown.stream().map(Path::toString).filter(p -> p.startsWith("/etc/")).toList();
  }

  /** /usr, the top-level links into it, /etc's entries, the JDK and what its links point to. */
  void systemBinds() {
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
  void refuseIfShown(Path path, String what) {
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
}
