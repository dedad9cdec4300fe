package dev.ferry;

import dev.ferry.FerryProcess.Run;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
@Tag("platform")
class FerryCommandTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  static Path work;
  static String api;

  @BeforeAll
  static void start() throws IOException {
    work = Files.createTempDirectory("ferry-cmd");
    api = "http://127.0.0.1:" + ferry.apiPort();
  }

  @AfterAll
  static void stop() {
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

  @Test
  void login_checks_the_token_stores_it_owner_only_and_every_command_then_works_from_any_directory() throws Exception {
    Path home = work.resolve("login-home");
    Path config = home.resolve("ferry/config.json");
    FerryProcess cli = new FerryProcess(home).in(Files.createDirectories(work.resolve("login-cwd")));

    Run wrong = cli.run("login", "--server", api, "--token", "not-the-token");
    assertEquals(1, wrong.code(), wrong.toString());
    assertTrue(wrong.err().contains("refused the token") && wrong.err().contains("nothing was stored"), wrong.toString());
    assertFalse(Files.exists(config), "a refused token is not stored");

    // the token on standard input, as `cat data/token | ferry login --server URL` gives it
    Run ok = cli.runWithInput(TestPlatform.TOKEN + "\n", "login", "--server", api + "/");
    assertEquals(0, ok.code(), ok.toString());
    assertTrue(ok.out().contains("Logged in to " + api), ok.toString());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(config)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(config.getParent())));
    JsonObject stored = new JsonObject(Files.readString(config));
    assertEquals(api, stored.getString("server"));
    assertEquals(TestPlatform.TOKEN, stored.getString("token"));

    // no FERRY_SERVER, no FERRY_TOKEN, another directory: the stored server and token
    Run list = cli.in(Files.createDirectories(work.resolve("somewhere/else"))).run("list");
    assertEquals(0, list.code(), list.toString());
    Run deploy = cli.run("deploy", FerryProcess.service(work.resolve("logged-in"), "hi").toString(), "--progress", "plain");
    assertEquals(0, deploy.code(), deploy.toString());
    assertTrue(deploy.out().contains("Deployed logged-in: http://logged-in.localhost:" + ferry.proxyPort() + "/"), deploy.toString());

    Run logout = cli.run("logout");
    assertEquals(0, logout.code(), logout.toString());
    assertTrue(logout.out().contains("Logged out of " + api), logout.toString());
    assertNull(new JsonObject(Files.readString(config)).getString("token"));
    Run refused = cli.run("list");
    assertEquals(1, refused.code(), refused.toString());
    assertTrue(refused.err().contains("HTTP 401") && refused.err().contains("ferry login"), refused.toString());
  }

  @Test
  void logs_follow_a_service_across_a_redeploy_and_a_rollback_naming_the_deployment_of_each_line() throws Exception {
    FerryProcess cli = cli("follow");
    String first = deploy(cli, FerryProcess.service(work.resolve("follow-1"), "one"), "follow");
    try (FerryProcess.Running f = cli.start("logs", "-f", "follow")) {
      int at = f.awaitOut(first + " ", 0, Duration.ofSeconds(60));
      at = f.awaitOut("[service] starting: one", at, Duration.ofSeconds(30));

      String second = deploy(cli, FerryProcess.service(work.resolve("follow-2"), "two"), "follow");
      at = f.awaitOut(second + " ", at, Duration.ofSeconds(30));
      at = f.awaitOut("[service] starting: two", at, Duration.ofSeconds(30));

      Run rollback = cli.run("rollback", "follow");
      assertEquals(0, rollback.code(), rollback.toString());
      // the rollback is a deployment of its own, running the first one's artifact
      JsonObject back = ferry.api(HttpMethod.GET, "/api/v1/services/follow/deployments").bodyAsJsonObject().getJsonArray("deployments").getJsonObject(0);
      assertEquals(first, back.getString("source"), back.encodePrettily());
      String third = back.getString("id");
      at = f.awaitOut("[swap] Taking traffic from " + second, at, Duration.ofSeconds(30));
      assertEquals("one", ferry.viaProxy("follow", "/after-rollback").bodyAsString());
      f.awaitOut("[service] asked /after-rollback", at, Duration.ofSeconds(30));

      assertEquals(0, cli.run("delete", "follow", "--yes").code());
      assertTrue(f.process.waitFor(30, TimeUnit.SECONDS), f.toString());
      f.drained();
      assertEquals(0, f.process.exitValue(), f.toString());
      assertTrue(f.err().contains("(service follow is deleted)"), f.toString());

      // every line says which deployment it is from, and the rollback's lines are its own
      Pattern line = Pattern.compile("(" + first + "|" + second + "|" + third + ") \\d\\d:\\d\\d:\\d\\d\\.\\d{3} (INFO |WARN |ERROR|DEBUG) \\[\\w+\\] .*");
      List<String> lines = f.out().lines().toList();
      for (String l : lines) assertTrue(line.matcher(l).matches(), "'" + l + "' in\n" + f);
      String swapBack = lines.stream().filter(l -> l.contains("[swap] Taking traffic from " + second)).findFirst().orElseThrow();
      assertTrue(swapBack.startsWith(third + " "), swapBack);
      assertEquals(1, lines.stream().filter(l -> l.contains("[service] starting: two")).count(), "each line once: " + f);
    }
  }

  @Test
  void after_a_failed_redeploy_list_and_status_show_what_serves_apart_from_what_failed() throws Exception {
    FerryProcess cli = cli("failed");
    String serving = deploy(cli, FerryProcess.service(work.resolve("failed-ok"), "fine"), "half");
    Path broken = FerryProcess.service(work.resolve("failed-broken"), "fine");
    Files.writeString(broken.resolve("src/main/java/fixture/say/Oops.java"), "package fixture.say; class Oops { int x = y; }");
    Run failed = cli.run("deploy", broken.toString(), "--name", "half", "--progress", "plain");
    assertEquals(1, failed.code(), failed.toString());
    String latest = ferry.api(HttpMethod.GET, "/api/v1/services/half").bodyAsJsonObject().getJsonObject("latest").getString("id");

    Run list = cli.run("list");
    String row = list.out().lines().filter(l -> l.startsWith("half ")).findFirst().orElseThrow(() -> new AssertionError(list.toString()));
    assertTrue(row.contains(serving) && row.contains("deployed (latest: error " + latest + ")")
        && row.contains("http://half.localhost:" + ferry.proxyPort() + "/"), row);
    JsonObject json = new JsonObject(cli.run("list", "--json").out()).getJsonArray("services").stream().map(JsonObject.class::cast)
        .filter(s -> "half".equals(s.getString("name"))).findFirst().orElseThrow();
    assertEquals(serving, json.getJsonObject("current").getString("id"));
    assertEquals("deployed", json.getJsonObject("current").getString("state"));
    assertEquals(latest, json.getJsonObject("latest").getString("id"));
    assertEquals("error", json.getJsonObject("latest").getString("state"));

    Run status = cli.run("status", "half");
    assertTrue(status.out().contains("Serving  " + serving), status.toString());
    assertTrue(status.out().contains("Latest   " + latest + " error (build): Compilation failed with 1 error"), status.toString());
    assertEquals("fine", ferry.viaProxy("half", "/").bodyAsString(), "still serving");
  }

  @Test
  void logs_of_a_service_show_its_latest_deployment_failed_or_not_and_current_shows_the_one_serving() throws Exception {
    FerryProcess cli = cli("latest");
    String serving = deploy(cli, FerryProcess.service(work.resolve("latest-ok"), "fine"), "latest");
    Path broken = FerryProcess.service(work.resolve("latest-broken"), "fine");
    Files.writeString(broken.resolve("src/main/java/fixture/say/Oops.java"), "package fixture.say; class Oops { int x = y; }");
    assertEquals(1, cli.run("deploy", broken.toString(), "--name", "latest", "--progress", "plain").code());

    Run logs = cli.run("logs", "latest");
    assertEquals(0, logs.code(), logs.toString());
    assertTrue(logs.out().contains("ERROR [build] src/main/java/fixture/say/Oops.java:1: error: cannot find symbol"), logs.toString());
    assertTrue(logs.err().contains(": error (build)"), logs.toString());
    assertFalse(logs.out().contains("[swap]"), "the failed deployment's log, not the serving one's: " + logs);

    Run current = cli.run("logs", "latest", "--current");
    assertTrue(current.out().contains("[swap] Taking traffic") && !current.out().contains("Oops"), current.toString());
    assertTrue(current.err().contains("Deployment " + serving + " of latest: deployed"), current.toString());

    Run grep = cli.run("logs", "latest", "--current", "--grep", "\\[(ready|swap)\\]");
    assertEquals(2, grep.out().lines().count(), grep.toString());
    assertEquals("", cli.run("logs", "latest", "--since", "2999-01-01T00:00:00Z").out());
    assertTrue(cli.run("logs", "latest", "--since", "1h").out().contains("Oops.java:1"));
    Run bad = cli.run("logs", "latest", "--since", "yesterday");
    assertEquals(1, bad.code());
    assertTrue(bad.err().contains("--since: 'yesterday' is neither a duration"), bad.toString());
  }

  @Test
  void a_compile_error_is_shown_once_in_full_as_javac_prints_it() throws Exception {
    FerryProcess cli = cli("javac");
    Run r = cli.run("deploy", TestPlatform.FIXTURES.resolve("compile-error").toAbsolutePath().toString(), "--name", "javac",
        "--progress", "plain");
    assertEquals(1, r.code(), r.toString());
    String diagnostic = """
        ERROR [build] src/main/java/fixture/broken/Broken.java:9: error: incompatible types: java.lang.String cannot be converted to int
            int x = "not a number";
                    ^
        """;
    assertTrue(r.out().contains(diagnostic), r.toString());
    assertEquals(1, r.out().split("Broken.java:9", -1).length - 1 + r.err().split("Broken.java:9", -1).length - 1, "once: " + r);
    assertTrue(r.err().contains("ended in error (build): Compilation failed with 1 error"), r.toString());

    Path symbol = FerryProcess.service(work.resolve("javac-symbol"), "x");
    Files.writeString(symbol.resolve("src/main/java/fixture/say/Oops.java"), "package fixture.say;\nclass Oops {\n  int x = missing();\n}\n");
    Run s = cli.run("deploy", symbol.toString(), "--progress", "plain");
    assertTrue(s.out().contains("""
        src/main/java/fixture/say/Oops.java:3: error: cannot find symbol
          int x = missing();
                  ^
          symbol:   method missing()
          location: class fixture.say.Oops
        """), s.toString());
  }

  @Test
  void init_refuses_names_that_are_not_service_names_or_are_reserved_and_a_name_with_a_digit_first_deploys() throws Exception {
    FerryProcess cli = cli("init");
    Run reserved = cli.run("init", work.resolve("api").toString());
    assertEquals(1, reserved.code(), reserved.toString());
    assertTrue(reserved.err().contains("Service name 'api' is reserved"), reserved.toString());
    assertFalse(Files.exists(work.resolve("api")));
    Run notDns = cli.run("init", work.resolve("My_Service").toString());
    assertEquals(1, notDns.code(), notDns.toString());
    assertTrue(notDns.err().contains("is not a DNS label"), notDns.toString());
    assertFalse(Files.exists(work.resolve("My_Service")));

    Run digit = cli.run("init", work.resolve("9lives").toString());
    assertEquals(0, digit.code(), digit.toString());
    assertTrue(Files.readString(work.resolve("9lives/src/main/java/app/_9lives/MainVerticle.java")).startsWith("package app._9lives;"));
    Run deployed = cli.run("deploy", work.resolve("9lives").toString(), "--progress", "plain");
    assertEquals(0, deployed.code(), deployed.toString());
    assertEquals("Hello from 9lives\n", ferry.viaProxy("9lives", "/").bodyAsString());

    // a bad --name is refused before anything is packed or sent
    Run badName = cli.run("deploy", work.resolve("9lives").toString(), "--name", "www", "--progress", "plain");
    assertEquals(1, badName.code(), badName.toString());
    assertTrue(badName.err().contains("Service name 'www' is reserved") && !badName.out().contains("Uploading"), badName.toString());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/www").statusCode());
  }

  @Test
  void rollback_waits_until_the_previous_version_answers_and_prints_its_url() throws Exception {
    FerryProcess cli = cli("rollback");
    String first = deploy(cli, FerryProcess.service(work.resolve("rb-1"), "first"), "rb");
    deploy(cli, FerryProcess.service(work.resolve("rb-2"), "second"), "rb");
    assertEquals("second", ferry.viaProxy("rb", "/").bodyAsString());

    Run r = cli.run("rollback", "rb");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("[swap] Taking traffic"), "the rollback's log: " + r);
    assertFalse(r.out().contains("[compile]"), "not the first build's: " + r);
    assertTrue(r.out().contains("Rolled back rb to " + first + ": http://rb.localhost:" + ferry.proxyPort() + "/"), r.toString());
    // when the command returns, the previous version answers
    assertEquals("first", ferry.viaProxy("rb", "/").bodyAsString());
  }

  @Test
  void delete_asks_on_a_terminal_and_elsewhere_needs_yes() throws Exception {
    FerryProcess cli = cli("delete");
    deploy(cli, FerryProcess.service(work.resolve("del"), "bye"), "del");

    Run piped = cli.run("delete", "del");
    assertEquals(1, piped.code(), piped.toString());
    assertTrue(piped.err().contains("pass --yes"), piped.toString());
    assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/del").statusCode());

    if (NodeSupport.onPath("script")) {
      // a terminal, from util-linux's script: the answer is typed at the prompt
      Run no = onTerminal(cli, "n\n", "delete", "del");
      assertTrue(no.out().contains("Delete service del?") && no.out().contains("Kept del"), no.toString());
      assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/del").statusCode());
      Run yes = onTerminal(cli, "y\n", "delete", "del");
      assertTrue(yes.out().contains("Deleted del"), yes.toString());
      assertEquals(0, yes.code(), yes.toString());
    } else {
      assertEquals(0, cli.run("delete", "del", "--yes").code());
    }
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/del").statusCode());
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
