package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's curl walk-through, as written there, against a real platform: the block is read out
 * of README.md; only the ports change (to free ones), and the test starts the server the block's
 * first line starts ({@code scripts/ferry server} execs the same main once the jar is built).
 */
@Tag("platform")
class ReadmeTest {

  @Test
  void the_curl_walk_through_works_as_written() throws Exception {
    Assumptions.assumeTrue(NodeSupport.onPath("curl") && NodeSupport.onPath("jq"), "curl and jq are needed (.ci/run installs them)");
    String block = walkThrough(Files.readString(Path.of("README.md")));
    List<String> lines = block.lines().toList();
    assertTrue(lines.get(0).startsWith("scripts/ferry server &"), "the block starts the server: " + lines.get(0));
    int api = freePort(), proxy = freePort();
    String script = String.join("\n", lines.subList(1, lines.size()))
        .replace("127.0.0.1:8000", "127.0.0.1:" + api).replace("127.0.0.1:8080", "127.0.0.1:" + proxy);

    Path dir = Files.createTempDirectory("ferry-readme");
    Files.createSymbolicLink(dir.resolve("examples"), Path.of("examples").toAbsolutePath());
    Vertx vertx = Vertx.vertx();
    try (FerryProcess.Running server = new FerryProcess(dir.resolve("config")).in(dir)
        .start("server", "--api-port", String.valueOf(api), "--proxy-port", String.valueOf(proxy))) {
      Process bash = new ProcessBuilder("bash", "-e", "-o", "pipefail", "-c", script).directory(dir.toFile()).redirectErrorStream(true).start();
      FerryProcess.Running walk = new FerryProcess.Running(bash);
      try (walk) {
        assertTrue(bash.waitFor(3, TimeUnit.MINUTES), "the walk-through did not end:\n" + walk + "\nserver:\n" + server);
        walk.drained();
        String out = walk.out();
        assertEquals(0, bash.exitValue(), out + "\nserver:\n" + server);
        assertTrue(out.contains("\"state\":\"deployed\""), out);
        assertTrue(out.contains("\"message\":\"Hello from Ferry!\""), "the service answered: " + out);
        assertTrue(out.contains("\"deployments\":[{"), out);
        assertTrue(out.contains("\"deleted\":true"), out);
      }
      // and, as the last comment says, the host answers 404 after
      var after = WebClient.create(vertx).get(proxy, "127.0.0.1", "/").putHeader("Host", "hello.localhost").send().await();
      assertEquals(404, after.statusCode());
    } finally {
      vertx.close().await();
      TestPlatform.deleteTree(dir);
    }
  }

  @Test
  void scripts_ferry_install_puts_ferry_on_the_path() throws Exception {
    Path bin = Files.createTempDirectory("ferry-bin");
    try {
      Process p = new ProcessBuilder("bash", "scripts/ferry", "install", bin.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      Path link = bin.resolve("ferry");
      assertTrue(Files.isSymbolicLink(link), out);
      assertEquals(Path.of("scripts/ferry").toRealPath(), link.toRealPath());
      assertTrue(out.contains(bin + " is not on your PATH"), out);
    } finally {
      TestPlatform.deleteTree(bin);
    }
  }

  /** The first sh block under the heading "Walk-through with curl". */
  static String walkThrough(String readme) {
    int heading = readme.indexOf("## Walk-through with curl");
    assertTrue(heading >= 0, "README.md has no walk-through");
    int start = readme.indexOf("```sh\n", heading) + "```sh\n".length();
    return readme.substring(start, readme.indexOf("```", start));
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
