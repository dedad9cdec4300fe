package dev.ferry.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the sandbox asks of the host: its tools, its java, the platform's uid. */
final class Host {

  private Host() {
  }

  static String javaBinary() {
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

  static String run(List<String> cmd) {
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
