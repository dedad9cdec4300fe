package dev.ferry;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Services run in runner processes, each on a Vert.x of its own: no event bus, port or process is
 * shared with the platform or with another service, and plain Vert.x code (fixed ports, launcher
 * mains, fire-and-forget servers, its own event-bus addresses and SockJS bridge) deploys unchanged.
 */
@Tag("platform")
class RunnersTest {

  // the launcher fixture's vertx-launcher-application comes from the local repository the build filled
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("maven.remoteRepositories", List.of(FileRepository.mavenLocalRepositoryUrl())));

  @BeforeAll
  static void deployTheBystander() {
    assertEquals("deployed", ferry.deploy("hello", "bystander").getString("state"));
  }

  @Test
  void a_service_runs_in_a_runner_process_whose_classpath_and_environment_hold_nothing_of_the_platform() {
    assertEquals(200, ferry.viaProxy("bystander", "/").statusCode());
    long pid = ferry.runnerPid("bystander");
    int port = ferry.api(HttpMethod.GET, "/api/v1/services/bystander").bodyAsJsonObject().getJsonObject("current").getInteger("port");
    assertTrue(port >= 20_000 && port <= 29_999, "its port comes from run.portRange, outside the ephemeral ports: " + port);
    assertNotEquals(ProcessHandle.current().pid(), pid, "not in the platform's JVM");
    ProcessHandle runner = ProcessHandle.of(pid).orElseThrow();
    assertTrue(ProcessHandle.current().descendants().anyMatch(h -> h.pid() == pid), "started by the platform (under bubblewrap, if sandboxed)");
    String command = String.join(" ", runner.info().arguments().orElseThrow());
    assertTrue(command.contains("dev.ferry.runner.RunnerMain"), command);
    assertTrue(command.contains("-XX:+ExitOnOutOfMemoryError") && command.contains("-Xmx256m"), command);
    for (String platformOnly : List.of("sqlite", "maven-resolver", "logback", "picocli", "commons-compress", "target/classes")) {
      assertFalse(command.contains(platformOnly), "the runner's classpath holds " + platformOnly + ": " + command);
    }
  }

  @Test
  void an_idle_runners_event_loops_sleep_until_there_is_work() throws Exception {
    // a service of its own, asked once: the proxy keeps one connection to it, fresh, and nothing else wakes it
    assertEquals("deployed", ferry.deploy("hello", "quiet").getString("state"));
    assertEquals(200, ferry.viaProxy("quiet", "/").statusCode());
    long pid = ferry.runnerPid("quiet");
    java.util.Map<String, Long> before, after, deflationBefore, deflationAfter;
    try {
      before = wakeups(pid, RunnersTest::isLoop);
      deflationBefore = wakeups(pid, name -> name.startsWith("Monitor Deflati"));
      TestPlatform.sleep(4_000);
      after = wakeups(pid, RunnersTest::isLoop);
      deflationAfter = wakeups(pid, name -> name.startsWith("Monitor Deflati"));
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/quiet");
    }
    assertEquals(before.keySet(), after.keySet(), "the same event loops");
    assertTrue(before.size() >= 2, "its event loops and acceptor: " + before);
    long woke = before.keySet().stream().mapToLong(t -> after.get(t) - before.get(t)).sum();
    // with nothing scheduled, a Netty 4.2 loop wakes every second: twelve times here
    assertTrue(woke <= 3, before.size() + " idle event loops woke " + woke + " times in 4 s: " + before + " → " + after);
    // HotSpot's monitor deflation thread: four times a second by default, once a second in a runner (on the JDKs it is set for)
    if (Runtime.version().feature() > 25) return; // RunnerJvm.quietMonitorDeflation: JDK 17 to 25
    assertEquals(1, deflationBefore.size(), "one monitor deflation thread: " + deflationBefore);
    long deflations = deflationBefore.keySet().stream().mapToLong(t -> deflationAfter.get(t) - deflationBefore.get(t)).sum();
    assertTrue(deflations <= 6, "the idle runner's monitor deflation thread woke " + deflations + " times in 4 s");
  }

  private static boolean isLoop(String threadName) {
    return threadName.startsWith("vert.x-eventloo") || threadName.startsWith("vert.x-acceptor");
  }

  /** Per thread of {@code pid} whose name is {@code named}: how often it went to sleep (its voluntary context switches). */
  private static java.util.Map<String, Long> wakeups(long pid, java.util.function.Predicate<String> named) throws java.io.IOException {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc", String.valueOf(pid), "task"))) {
      for (java.nio.file.Path task : tasks.toList()) {
        String name = java.nio.file.Files.readString(task.resolve("comm")).trim();
        if (!named.test(name)) continue;
        for (String line : java.nio.file.Files.readAllLines(task.resolve("status"))) {
          if (line.startsWith("voluntary_ctxt_switches:")) out.put(task.getFileName().toString(), Long.parseLong(line.split(":")[1].trim()));
        }
      }
    }
    return out;
  }

  @Test
  void services_whose_pom_asks_for_shared_isolation_share_one_runner_and_the_others_keep_their_own() {
    ferry.deploy("shared-hello", "dense-a");
    ferry.deploy("shared-hello", "dense-b");
    try {
      long a = ferry.runnerPid("dense-a"), b = ferry.runnerPid("dense-b");
      assertEquals(a, b, "<ferry.isolation>shared</ferry.isolation>: one runner JVM");
      assertNotEquals(a, ferry.runnerPid("bystander"), "a process service keeps a runner of its own");
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/dense-a");
      ferry.api(HttpMethod.DELETE, "/api/v1/services/dense-b");
    }
  }

  @Test
  void a_meddling_service_sees_only_itself_and_neither_the_platform_nor_a_neighbour_notices() {
    assertEquals("deployed", ferry.deploy("meddler", "meddler").getString("state"));
    SteadyLoad neighbour = new SteadyLoad(ferry, "bystander");
    SteadyLoad platform = new SteadyLoad(ferry.vertx, new RequestOptions().setHost("127.0.0.1").setPort(ferry.apiPort()).setURI("/health"));
    try {
      JsonObject seen = ferry.viaProxy("meddler", "/meddle?apiPort=" + ferry.apiPort()).bodyAsJsonObject();
      assertEquals(1, seen.getJsonArray("deploymentIds").size(), "it sees its own deployment only: " + seen);
      assertEquals(0, seen.getInteger("heard"), "nothing of the platform's event bus reaches it: " + seen);
      assertTrue(seen.getString("rawBind").contains("in use"), "the API port is the platform's, in another process: " + seen);
      assertFalse(seen.getString("apiListen").contains(String.valueOf(ferry.apiPort())), "its listen on the API port is virtualized: " + seen);
      JsonArray env = seen.getJsonArray("env");
      assertFalse(env.contains("FERRY_TOKEN"), "no token in its environment: " + env);
      assertTrue(env.size() <= 4, "a clean environment: " + env);
      // its forged event and delete reached nothing: the bystander serves and is not deleted
      assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/bystander").statusCode());
      assertEquals("deployed", ferry.api(HttpMethod.GET, "/api/v1/services/bystander").bodyAsJsonObject().getJsonObject("current").getString("state"));
      // a deploy meanwhile is built by the platform, not stolen by the meddler's consumer on ferry.build
      assertEquals("deployed", ferry.deploy("hello", "fresh").getString("state"));
      // it closes its own Vert.x: only its runner ends (and is restarted)
      long pid = ferry.runnerPid("meddler");
      assertEquals("closing", ferry.viaProxy("meddler", "/close").bodyAsString());
      awaitGone(pid);
      assertEquals("meddler", awaitAnswer("meddler", "/"));
      // it undeploys its own verticle: the same
      pid = ferry.runnerPid("meddler");
      assertEquals("undeploying", ferry.viaProxy("meddler", "/undeploy").bodyAsString());
      awaitGone(pid);
      assertEquals("meddler", awaitAnswer("meddler", "/"));
    } finally {
      SteadyLoad.Result n = neighbour.stop(), p = platform.stop();
      assertTrue(n.ok() > 0 && p.ok() > 0, "both were under load: " + n + " " + p);
      assertEquals(0, n.failed(), "the neighbour failed requests: " + n);
      assertEquals(0, p.failed(), "the platform failed requests: " + p);
      ferry.api(HttpMethod.DELETE, "/api/v1/services/meddler");
      ferry.api(HttpMethod.DELETE, "/api/v1/services/fresh");
    }
    String log = ferry.api(HttpMethod.GET, "/api/v1/services/meddler/deployments").bodyAsString();
    assertTrue(log.contains("meddler"), log);
  }

  @Test
  void two_copies_of_the_chat_example_on_port_8080_do_not_hear_each_other() throws Exception {
    assertEquals("deployed", ferry.deploy("chat", "chat-a").getString("state"));
    assertEquals("deployed", ferry.deploy("chat", "chat-b").getString("state"));
    assertEquals("chat", ferry.viaProxy("chat-a", "/").bodyAsString());
    assertEquals("chat", ferry.viaProxy("chat-b", "/").bodyAsString());
    List<String> heardA = new CopyOnWriteArrayList<>(), heardB = new CopyOnWriteArrayList<>();
    WebSocketClient client = ferry.vertx.createWebSocketClient();
    try {
      WebSocket a = bridge(client, "chat-a", heardA), b = bridge(client, "chat-b", heardB);
      a.writeTextMessage(new JsonObject().put("type", "send").put("address", "chat.to.server").put("body", "from a").encode()).await();
      b.writeTextMessage(new JsonObject().put("type", "send").put("address", "chat.to.server").put("body", "from b").encode()).await();
      long deadline = System.currentTimeMillis() + 10_000;
      while ((heardA.isEmpty() || heardB.isEmpty()) && System.currentTimeMillis() < deadline) TestPlatform.sleep(20);
      TestPlatform.sleep(300);
      assertEquals(List.of("said: from a"), heardA, "chat-a's clients hear chat-a only");
      assertEquals(List.of("said: from b"), heardB, "chat-b's clients hear chat-b only");
    } finally {
      client.close();
      ferry.api(HttpMethod.DELETE, "/api/v1/services/chat-a");
      ferry.api(HttpMethod.DELETE, "/api/v1/services/chat-b");
    }
  }

  /** A raw SockJS WebSocket to {@code service}'s event-bus bridge, registered on chat.to.client. */
  private static WebSocket bridge(WebSocketClient client, String service, List<String> heard) {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(ferry.proxyPort())
        .setURI("/eventbus/websocket").addHeader("Host", service + ".localhost");
    WebSocket ws = ferry.vertx.getOrCreateContext().<WebSocket>executeBlocking(() -> null).compose(x -> client.connect(o)
        // the bridge sends binary frames; text or binary, each holds one JSON message
        .onSuccess(s -> s.handler(buf -> {
          JsonObject f = buf.toJsonObject();
          if ("rec".equals(f.getString("type"))) heard.add(f.getString("body"));
        }))).await();
    ws.writeTextMessage(new JsonObject().put("type", "register").put("address", "chat.to.client").encode()).await();
    TestPlatform.sleep(200);
    return ws;
  }

  @Test
  void a_plain_vertx_project_with_a_launcher_main_and_fire_and_forget_servers_on_8080_deploys_twice() {
    JsonObject one = ferry.deploy("launcher", "app-one");
    assertEquals("deployed", one.getString("state"), one.encodePrettily());
    JsonObject two = ferry.deploy("launcher", "app-two");
    assertEquals("deployed", two.getString("state"), two.encodePrettily());
    try {
      for (String service : List.of("app-one", "app-two")) {
        // both servers of the service asked for 8080: both share its one routed port
        java.util.Set<String> answers = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) answers.add(ferry.viaProxy(service, "/x").bodyAsString());
        assertEquals(java.util.Set.of("app /x", "child /x"), answers, service);
      }
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/app-one");
      ferry.api(HttpMethod.DELETE, "/api/v1/services/app-two");
    }
  }

  @Test
  void stdout_stderr_and_jul_go_to_the_deployment_log_naming_the_stream_and_the_probe_reaches_no_handler() {
    try (LogCapture platformLog = LogCapture.ofAll()) {
      String id = ferry.deploy("prints", "printer").getString("id");
      assertEquals("0", ferry.viaProxy("printer", "/").bodyAsString(), "the readiness probe reached the handler");
      assertEquals("1", ferry.viaProxy("printer", "/").bodyAsString());
      // a line travels on: the runner's channel, the deployment log, the ledger
      List<JsonObject> lines;
      long deadline = System.currentTimeMillis() + 5_000;
      do {
        lines = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString().lines().map(JsonObject::new).toList();
      } while (lines.stream().noneMatch(l -> l.getString("message").equals("prints: out for request 1"))
          && System.currentTimeMillis() < deadline);
      assertTrue(lines.stream().anyMatch(l -> "stdout".equals(l.getString("stage")) && l.getString("message").equals("prints: out at start")), lines.toString());
      assertTrue(lines.stream().anyMatch(l -> "stderr".equals(l.getString("stage")) && l.getString("message").equals("prints: err at start")), lines.toString());
      assertTrue(lines.stream().anyMatch(l -> "service".equals(l.getString("stage")) && l.getString("message").equals("prints: jul at start")
          && "warn".equals(l.getString("level"))), lines.toString());
      assertTrue(lines.stream().anyMatch(l -> l.getString("message").equals("prints: out for request 1")), lines.toString());
      assertEquals(0, platformLog.count(null, "prints:"), "nothing of it on the platform's console: " + platformLog);
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/printer");
    }
  }

  @Test
  void a_platform_that_stops_has_ended_its_runners_and_removed_their_files_when_its_close_completes() throws Exception {
    java.nio.file.Path data = TestPlatform.tempDir("ferry-stop");
    try {
      TestPlatform stopping = TestPlatform.start(c -> c.with("dataDir", data));
      assertEquals("deployed", stopping.deploy("hello", "leaving").getString("state"));
      long pid = stopping.runnerPid("leaving");
      java.nio.file.Path runners = data.resolve("runners");
      try (var dirs = java.nio.file.Files.list(runners)) {
        assertFalse(dirs.filter(java.nio.file.Files::isDirectory).toList().isEmpty(), "a runner's dir while it serves");
      }
      stopping.close(); // its data dir is this test's, kept to be looked at
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "its runner has ended");
      try (var left = java.nio.file.Files.list(runners)) {
        assertEquals(List.of(), left.filter(java.nio.file.Files::isDirectory).map(d -> d.getFileName().toString()).toList(),
            "no runner's files are left (nor removed after the close, under whoever looks then)");
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
  }

  private static void awaitGone(long pid) {
    if (!TestPlatform.awaitExit(pid, Duration.ofSeconds(10))) throw new AssertionError("runner " + pid + " still alive");
  }

  private static String awaitAnswer(String service, String path) {
    long deadline = System.currentTimeMillis() + 20_000;
    while (true) {
      var r = ferry.viaProxy(service, path);
      if (r.statusCode() == 200) return r.bodyAsString();
      if (System.currentTimeMillis() > deadline) throw new AssertionError(service + " answers " + r.statusCode() + ": " + r.bodyAsString());
      TestPlatform.sleep(50);
    }
  }
}
