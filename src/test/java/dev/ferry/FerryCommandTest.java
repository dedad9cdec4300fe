package dev.ferry;

import dev.ferry.FerryProcess.Run;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ferry command through the real binary (a JVM of its own, as the user starts it) against a real platform. */
class FerryCommandTest {

  static TestPlatform ferry;
  static Path work;
  static String api;

  @BeforeAll
  static void start() throws IOException {
    ferry = TestPlatform.start();
    work = Files.createTempDirectory("ferry-cmd");
    api = "http://127.0.0.1:" + ferry.apiPort();
  }

  @AfterAll
  static void stop() {
    ferry.close();
    TestPlatform.deleteTree(work);
  }

  /** The CLI pointed at the test platform, with its token, from a directory of its own. */
  static FerryProcess cli(String home) throws IOException {
    return new FerryProcess(work.resolve(home)).env("FERRY_SERVER", api).env("FERRY_TOKEN", TestPlatform.TOKEN)
        .in(Files.createDirectories(work.resolve("cwd-" + home)));
  }

  static String deploy(FerryProcess cli, Path dir, String name) {
    Run r = cli.run("deploy", dir.toString(), "--name", name, "--progress", "plain");
    assertEquals(0, r.code(), r.toString());
    return ferry.api(HttpMethod.GET, "/api/v1/services/" + name).bodyAsJsonObject().getJsonObject("current").getString("id");
  }

  /** Runs {@code ferry args} on a pseudo-terminal, typing {@code input}. */
  private static Run onTerminal(FerryProcess cli, String input, String... args) throws Exception {
    String command = String.join(" ", cli.command(args).stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
    Process p = cli.builder(List.of("script", "-qec", command, "/dev/null")).start();
    FerryProcess.Running r = new FerryProcess.Running(p);
    try (r) {
      r.awaitOut("[y/N]", 0, Duration.ofSeconds(60));
      p.getOutputStream().write(input.getBytes());
      p.getOutputStream().flush();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), r.toString());
      r.drained();
      return new Run(p.exitValue(), r.out(), r.err());
    }
  }

  @Test
  void a_server_that_does_not_answer_is_one_line_of_the_cli_and_no_library_log() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Run r = cli("unreachable").env("FERRY_SERVER", "http://127.0.0.1:" + closed).run("logs", "-f", "anything");
    assertEquals(1, r.code(), r.toString());
    assertEquals("ferry logs: cannot reach http://127.0.0.1:" + closed + ": Connection refused", r.err().strip());
    assertEquals("", r.out());
  }
}
