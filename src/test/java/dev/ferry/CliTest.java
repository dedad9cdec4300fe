package dev.ferry;

import dev.ferry.cli.FerryCommand;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ferry CLI, run in-process against a real platform, its output captured. */
@Tag("platform")
class CliTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  static final Path work = TestPlatform.tempDir("ferry-cli");

  @AfterAll
  static void stop() {
    TestPlatform.deleteTree(work);
  }

  /** One run of {@code ferry args...}: its exit code and what it printed. */
  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- out\n" + out + "\n--- err\n" + err;
    }
  }

  static Run ferryAt(String server, String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = FerryCommand.commandLine(Map.of("FERRY_SERVER", server, "XDG_CONFIG_HOME", work.resolve("config").toString(), "FERRY_TOKEN", TestPlatform.TOKEN))
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  static Run ferry(String... args) {
    return ferryAt("http://127.0.0.1:" + ferry.apiPort(), args);
  }

  static Path copyFixture(String fixture, String as) throws IOException {
    Path dest = work.resolve(as);
    Path from = TestPlatform.FIXTURES.resolve(fixture);
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = dest.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(t);
        else Files.copy(p, t);
      }
    }
    return dest;
  }

  @Test
  void a_wrong_token_fails_with_a_message_that_says_where_the_token_comes_from() {
    Run r = ferry("list", "--token", "not-the-token");
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.err().contains("401") && r.err().contains("FERRY_TOKEN") && r.err().contains("<data dir>/token"), r.toString());
  }

  @Test
  void init_makes_a_project_that_deploys_and_builds_with_plain_maven() throws Exception {
    Path dir = work.resolve("greeter");
    Run init = ferry("init", dir.toString());
    assertEquals(0, init.code(), init.toString());
    assertTrue(Files.isRegularFile(dir.resolve("pom.xml")));

    Run deploy = ferry("deploy", dir.toString(), "--progress", "plain");
    assertEquals(0, deploy.code(), deploy.toString());
    assertTrue(deploy.out().contains("Uploading: 100%"), deploy.toString());
    assertTrue(deploy.out().contains("[compile]"), "the build log, live: " + deploy);
    assertTrue(deploy.out().contains("Deployed greeter: http://greeter.localhost:" + ferry.proxyPort() + "/"), deploy.toString());
    assertEquals("Hello from greeter\n", ferry.viaProxy("greeter", "/").bodyAsString());

    assertEquals(1, ferry("init", dir.toString()).code(), "refuses an existing directory");
    if (onPath("mvn")) {
      // the SDK (provided) comes from the local repository the build runs from, as ferry sdk install puts it there
      Run sdk = ferry("sdk", "install", "--repository", Path.of(java.net.URI.create(FileRepository.mavenLocalRepositoryUrl())).toString());
      assertEquals(0, sdk.code(), sdk.toString());
      assertTrue(sdk.out().contains("dev.ferry:ferry-sdk:"), sdk.toString());
      Process mvn = new ProcessBuilder("mvn", "-q", "-B", "-o", "compile").directory(dir.toFile()).redirectErrorStream(true).start();
      String log = new String(mvn.getInputStream().readAllBytes());
      assertTrue(mvn.waitFor(5, TimeUnit.MINUTES));
      assertEquals(0, mvn.exitValue(), log);
      assertTrue(Files.isRegularFile(dir.resolve("target/classes/app/greeter/MainVerticle.class")));

      // and runs locally with plain Maven, its config() from config.json as on Ferry
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Files.writeString(dir.resolve("config.json"), new JsonObject().put("http.port", port).put("http.host", "127.0.0.1").encode());
      Process run = new ProcessBuilder("mvn", "-q", "-B", "compile", "exec:java").directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(work.resolve("exec.log").toFile()).start();
      try {
        String answer = null;
        for (long deadline = System.nanoTime() + 180_000_000_000L; answer == null && run.isAlive() && System.nanoTime() < deadline; ) {
          try {
            answer = ferry.anonymous.get(port, "127.0.0.1", "/").send().await().bodyAsString();
          } catch (Exception notYet) {
            TestPlatform.sleep(200);
          }
        }
        assertEquals("Hello from greeter\n", answer, Files.readString(work.resolve("exec.log")));
      } finally {
        run.destroy();
        if (!run.waitFor(20, TimeUnit.SECONDS)) run.destroyForcibly();
      }
    }
  }

  @Test
  void deploy_of_a_broken_service_shows_the_compiler_error_and_exits_non_zero() throws IOException {
    Run r = ferry("deploy", copyFixture("compile-error", "cli-broken").toString(), "--progress", "plain");
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().contains("[extract]"), r.toString());
    assertTrue(r.out().contains("ERROR [build] src/main/java/fixture/broken/Broken.java:9: error:"), r.toString());
    assertTrue(r.err().contains("ended in error (build)"), r.toString());
  }

  @Test
  void deploy_honors_gitignore_and_ferryignore() throws IOException {
    Path dir = copyFixture("hello", "cli-ignoring");
    Files.writeString(dir.resolve(".gitignore"), "secrets/\n*.tmp\n");
    Files.writeString(dir.resolve(".ferryignore"), "/notes.md\n");
    Files.createDirectories(dir.resolve("secrets"));
    Files.writeString(dir.resolve("secrets/key"), "x");
    Files.writeString(dir.resolve("a.tmp"), "x");
    Files.writeString(dir.resolve("notes.md"), "x");
    Files.writeString(dir.resolve("src/main/java/fixture/hello/Broken.java.tmp"), "not java");
    Files.writeString(dir.resolve("src/main/java/fixture/hello/Extra.java"), "package fixture.hello; class Extra {}");
    Path archive = Files.createTempFile(work, "packed", ".tar.gz");
    dev.ferry.cli.Archives.pack(dir, archive);
    List<String> names = new java.util.ArrayList<>();
    try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
        new java.util.zip.GZIPInputStream(Files.newInputStream(archive)))) {
      for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) names.add(e.getName());
    }
    assertTrue(names.contains("src/main/java/fixture/hello/Extra.java"), names.toString());
    assertTrue(names.contains(".gitignore"), names.toString());
    for (String gone : List.of("secrets/key", "a.tmp", "notes.md", "src/main/java/fixture/hello/Broken.java.tmp")) {
      assertFalse(names.contains(gone), gone + " in " + names);
    }
    Run r = ferry("deploy", dir.toString(), "--progress", "plain");
    assertEquals(0, r.code(), r.toString());
  }

  @Test
  void deploy_over_the_upload_limit_is_refused_before_sending() throws IOException {
    try (TestPlatform small = TestPlatform.start(c -> c.with("upload.maxBytes", 4096))) {
      Path dir = copyFixture("hello", "cli-too-big");
      byte[] noise = new byte[64 * 1024];
      new java.util.Random(7).nextBytes(noise);
      Files.write(dir.resolve("src/main/resources-noise.bin"), noise);
      Run r = ferryAt("http://127.0.0.1:" + small.apiPort(), "deploy", dir.toString(), "--progress", "plain");
      assertEquals(1, r.code(), r.toString());
      assertTrue(r.err().contains("over the server's upload limit of 4.0 KiB"), r.toString());
      assertFalse(r.out().contains("Uploading"), r.toString());
      assertEquals(0, small.api(HttpMethod.GET, "/api/v1/services").bodyAsJsonObject().getJsonArray("services").size());
    }
  }

  @Test
  void list_status_logs_delete_in_text_and_json() throws Exception {
    assertEquals(0, ferry("deploy", copyFixture("chatty", "cli-chatty").toString(), "--progress", "plain").code());

    Run list = ferry("list");
    assertTrue(list.out().contains("cli-chatty") && list.out().contains("http://cli-chatty.localhost:"), list.toString());
    JsonArray services = new JsonObject(ferry("list", "--json").out()).getJsonArray("services");
    assertTrue(services.stream().anyMatch(s -> "cli-chatty".equals(((JsonObject) s).getString("name"))));

    Run status = ferry("status", "cli-chatty");
    assertTrue(status.out().contains("deployed"), status.toString());
    JsonObject statusJson = new JsonObject(ferry("status", "cli-chatty", "--json").out());
    String id = statusJson.getJsonObject("current").getString("id");
    assertEquals(1, statusJson.getJsonArray("deployments").size());

    Run logs = ferry("logs", "cli-chatty");
    assertTrue(logs.out().contains("[swap]") && logs.out().contains("chatty is starting"), logs.toString());
    assertEquals(logs.out().lines().count(), ferry("logs", id, "--json").out().lines().map(JsonObject::new).count());

    // --follow shows the running service's output until it is deleted
    StringWriter fout = new StringWriter(), ferr = new StringWriter();
    CompletableFuture<Integer> following = CompletableFuture.supplyAsync(() -> FerryCommand.commandLine(
            Map.of("FERRY_SERVER", "http://127.0.0.1:" + ferry.apiPort(), "FERRY_TOKEN", TestPlatform.TOKEN,
            "XDG_CONFIG_HOME", work.resolve("config").toString()))
        .setOut(new PrintWriter(fout, true)).setErr(new PrintWriter(ferr, true)).execute("logs", "cli-chatty", "--follow"));
    long deadline = System.currentTimeMillis() + 20_000;
    // keep talking until the follower shows it (it may not be connected at first)
    for (int i = 0; !fout.toString().contains("followed-") && System.currentTimeMillis() < deadline; i++) {
      ferry.viaProxy("cli-chatty", "/say?m=followed-" + i);
      TestPlatform.sleep(100);
    }
    Run delete = ferry("delete", "cli-chatty", "--yes");
    assertEquals(0, delete.code(), delete.toString());
    assertTrue(delete.out().contains("Deleted cli-chatty"));
    assertEquals(0, following.get(30, TimeUnit.SECONDS), ferr.toString());
    assertTrue(fout.toString().contains("followed-"), fout.toString());
    assertTrue(ferr.toString().contains("is deleted"), ferr.toString());

    Run gone = ferry("status", "cli-chatty");
    assertEquals(1, gone.code());
    assertTrue(gone.err().contains("404"), gone.toString());
  }

  @Test
  void deploy_reconnects_when_the_log_stream_drops_and_shows_each_line_once() throws Exception {
    // a real TCP relay between the CLI and the API, whose connections the test cuts mid-deployment
    List<NetSocket> relayed = new CopyOnWriteArrayList<>();
    NetServer relay = ferry.vertx.createNetServer().connectHandler(in -> {
      in.pause();
      ferry.vertx.createNetClient().connect(ferry.apiPort(), "127.0.0.1").onSuccess(outSock -> {
        relayed.add(in);
        relayed.add(outSock);
        in.pipeTo(outSock);
        outSock.pipeTo(in);
        in.resume();
      }).onFailure(e -> in.close());
    }).listen(0, "127.0.0.1").await();
    try {
      Path dir = copyFixture("slow-start", "cli-slow");
      CompletableFuture<Run> deploying = CompletableFuture.supplyAsync(() ->
          ferryWatching("http://127.0.0.1:" + relay.actualPort(), "deploy", dir, relayed));
      Run r = deploying.get(60, TimeUnit.SECONDS);
      assertEquals(0, r.code(), r.toString());
      assertTrue(r.err().contains("reconnecting"), r.toString());
      List<String> logLines = r.out().lines().filter(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*")).toList();
      assertEquals(logLines.size(), logLines.stream().distinct().count(), "each line once: " + r);
      assertTrue(r.out().contains("[swap]"), r.toString());
    } finally {
      relay.close().await();
    }
  }

  /** Runs {@code ferry deploy DIR} and cuts every relayed connection once the deploy line is printed. */
  private static Run ferryWatching(String server, String command, Path dir, List<NetSocket> relayed) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    Thread cutter = new Thread(() -> {
      long deadline = System.currentTimeMillis() + 30_000;
      while (!out.toString().contains("[deploy]") && System.currentTimeMillis() < deadline) TestPlatform.sleep(5);
      relayed.forEach(s -> ferry.vertx.runOnContext(v -> s.close()));
    });
    cutter.start();
    int code = FerryCommand.commandLine(Map.of("FERRY_SERVER", server, "FERRY_TOKEN", TestPlatform.TOKEN,
            "XDG_CONFIG_HOME", work.resolve("config").toString()))
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(command, dir.toString(), "--progress", "plain");
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void completion_prints_a_bash_script_for_every_command() {
    Run r = ferry("completion");
    assertEquals(0, r.code());
    for (String cmd : List.of("deploy", "list", "status", "logs", "delete", "init")) assertTrue(r.out().contains(cmd), cmd);
    assertTrue(r.out().contains("complete -F"), "a bash completion script");
  }

  static boolean onPath(String command) {
    return NodeSupport.onPath(command);
  }
}
