package dev.ferry;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Node and npm packages for tests that drive real JavaScript clients; skips the test without them. */
final class NodeSupport {

  static final Path DIR = Path.of("target/node-test");

  private NodeSupport() {
  }

  static boolean onPath(String command) {
    try {
      Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Installs {@code packages} from the npm registry into target/node-test once; returns its node_modules. */
  static synchronized Path install(String... packages) throws IOException, InterruptedException {
    Assumptions.assumeTrue(onPath("node"), "node is not on the PATH: skipping (.ci/run installs it)");
    Assumptions.assumeTrue(onPath("npm"), "npm is not on the PATH: skipping (.ci/run installs it)");
    Files.createDirectories(DIR);
    Path marker = DIR.resolve(String.join("+", packages).replaceAll("[^A-Za-z0-9.+-]", "_") + ".installed");
    if (!Files.exists(marker)) {
      var cmd = new java.util.ArrayList<>(java.util.List.of("npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
          "--prefix", DIR.toAbsolutePath().toString()));
      cmd.addAll(java.util.List.of(packages));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IOException("npm install failed: " + log);
      Files.createFile(marker);
    }
    return DIR.resolve("node_modules");
  }
}
