package dev.ferry;

import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.SqliteLedger;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A platform killed with SIGKILL and started again on its data dir serves what it served, from the ledger. */
@Tag("platform")
class RestartTest {

  private static final Set<String> FINAL = Set.of("deployed", "error", "stopped", "deleted", "crashed");
  /** How long runners left without a platform keep serving, in the test that waits it out (the others keep the default). */
  static final long ORPHAN_GRACE_MS = 4_000;

  /** {@code ferry server} in a child JVM, on fixed loopback ports and a data dir. */
  static final class Child implements AutoCloseable {
    final Process process;
    final int apiPort;
    final int proxyPort;
    final WebClient http;
    /** The token the server generated into its data dir on the first start (none is configured). */
    final String token;

    Child(Path dataDir, int apiPort, int proxyPort, Path log, WebClient http, Map<String, String> env) throws IOException {
      this(dataDir, apiPort, proxyPort, log, http, env, new JsonObject());
    }

    /** {@code env}: variables added to the server's environment; {@code run}: settings of the config's {@code run} section. */
    Child(Path dataDir, int apiPort, int proxyPort, Path log, WebClient http, Map<String, String> env, JsonObject run) throws IOException {
      this.apiPort = apiPort;
      this.proxyPort = proxyPort;
      this.http = http;
      // the suite's runner cache, and a grace period a test can wait out
      Path config = dataDir.resolveSibling("ferry.json");
      Files.writeString(config, new JsonObject().put("run", new JsonObject().put("cacheDir", TestPlatform.RUNNER_CACHE.toString())
          .put("sandbox", TestPlatform.SANDBOX ? "bwrap" : "none")
          .put("orphanGraceMs", Config.DEFAULTS.run().orphanGraceMs()).mergeIn(run)).encode());
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "dev.ferry.Main", "server",
          "--host", "127.0.0.1", "--api-port", String.valueOf(apiPort), "--proxy-port", String.valueOf(proxyPort),
          "--data-dir", dataDir.toString(), "--config", config.toString());
      builder.environment().putAll(env);
      process = builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          if (http.get(apiPort, "127.0.0.1", "/health").send().await().statusCode() == 200) break;
        } catch (Exception notYet) {
          if (!process.isAlive()) throw new AssertionError("ferry server exited: " + Files.readString(log));
          if (System.nanoTime() > deadline) throw new AssertionError("ferry server did not come up: " + Files.readString(log));
          TestPlatform.sleep(50);
        }
      }
      token = Files.readString(dataDir.resolve("token")).trim();
    }

    JsonObject get(String path) {
      return http.get(apiPort, "127.0.0.1", path).bearerTokenAuthentication(token).send().await().bodyAsJsonObject();
    }

    /** Deployment {@code id}'s log, as text. */
    String logs(String id) {
      return http.get(apiPort, "127.0.0.1", "/api/v1/deployments/" + id + "/logs").bearerTokenAuthentication(token).send().await().bodyAsString();
    }

    JsonObject deploy(String fixture, String service) throws IOException {
      HttpResponse<Buffer> r = http.post(apiPort, "127.0.0.1", "/api/v1/services/" + service + "/deployments")
          .bearerTokenAuthentication(token).putHeader("content-type", "application/gzip")
          .sendBuffer(Buffer.buffer(Files.readAllBytes(TestPlatform.pack(fixture)))).await();
      assertEquals(202, r.statusCode(), r.bodyAsString());
      String id = r.bodyAsJsonObject().getString("id");
      // a platform in another process: no event bus here to wait on, so its API is polled
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        JsonObject d = get("/api/v1/deployments/" + id);
        if (FINAL.contains(d.getString("state"))) return d;
        TestPlatform.sleep(25);
      }
      throw new AssertionError("deployment " + id + " did not finish");
    }

    /** The deployment id {@code service} answers with through the proxy, or null if it does not answer. */
    String answeringId(String service) {
      JsonObject answer = answer(service);
      return answer == null ? null : answer.getString("deployment");
    }

    /** What {@code service} answers through the proxy, or null if it does not answer 200. */
    JsonObject answer(String service) {
      try {
        HttpResponse<Buffer> r = viaProxy(service);
        return r.statusCode() == 200 ? r.bodyAsJsonObject() : null;
      } catch (Exception e) {
        return null;
      }
    }

    /** What {@code service} answers through the proxy. */
    HttpResponse<Buffer> viaProxy(String service) {
      return http.get(proxyPort, "127.0.0.1", "/").putHeader("Host", service + ".localhost").send().await();
    }

    /** Waits until every service of {@code ids} answers with its id; returns those that do. */
    List<String> awaitAnswering(Map<String, String> ids) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<String> answering = new ArrayList<>();
      while (System.nanoTime() < deadline) {
        answering.clear();
        for (var e : ids.entrySet()) {
          if (e.getValue().equals(answeringId(e.getKey()))) answering.add(e.getKey());
        }
        if (answering.size() == ids.size()) break;
        TestPlatform.sleep(50);
      }
      return answering;
    }

    void kill() throws InterruptedException {
      process.destroyForcibly();
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    }

    @Override
    public void close() throws InterruptedException {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
      }
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Where a test's platforms run, one after another: a temporary directory with their data dir and
   * log, fixed loopback ports, a client; on close, the platforms still running are stopped and all
   * of it is gone.
   */
  static final class Site implements AutoCloseable {
    final Path dir;
    final Path data;
    final Path log;
    final int api;
    final int proxy;
    final Vertx vertx = Vertx.vertx();
    final WebClient http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
    private final List<Child> started = new ArrayList<>();

    Site(String prefix) throws IOException {
      dir = Files.createTempDirectory(prefix);
      data = dir.resolve("data");
      log = dir.resolve("server.log");
      api = freePort();
      proxy = freePort();
    }

    /** {@code ferry server} here, with {@code run} settings. */
    Child start(JsonObject run) throws IOException {
      Child c = new Child(data, api, proxy, log, http, Map.of(), run);
      started.add(c);
      return c;
    }

    @Override
    public void close() throws InterruptedException {
      for (Child c : started) c.close();
      http.close();
      vertx.close().await();
      TestPlatform.deleteTree(dir);
    }
  }

  /** Services deployed on a first platform, killed with SIGKILL: their ids, pids and histories. */
  private record Before(Map<String, String> ids, Map<String, String> pids, Map<String, JsonArray> histories, String token) {
  }

  private static Before deployAndKill(Child first) throws Exception {
    return deployAndKillWith(first, new ArrayList<>());
  }

  @Test
  void after_sigkill_the_restarted_platform_adopts_the_runners_still_serving_without_restarting_them() throws Exception {
    try (Site site = new Site("ferry-restart")) {
      Path data = site.data;
      WebClient http = site.http;
      Before before;
      try (Child first = site.start(new JsonObject())) {
        before = deployAndKill(first);
      }
      // the services outlive their control plane: each still answers on its own port
      for (String s : before.pids.keySet()) {
        int port = before.histories.get(s).getJsonObject(0).getInteger("port");
        assertEquals(200, http.get(port, "127.0.0.1", "/").send().await().statusCode(), s + " on its port " + port);
      }

      Child second = site.start(new JsonObject());
      assertEquals(before.token, second.token, "the generated API token is kept across restarts");
      assertEquals(List.copyOf(before.ids.keySet()), second.awaitAnswering(before.ids), "services answering with their ids after the restart");
      for (var e : before.pids.entrySet()) {
        assertEquals(e.getValue(), second.answer(e.getKey()).getString("jvm"), e.getKey() + " is served by the same runner process");
      }
      for (var e : before.ids.entrySet()) {
        JsonArray was = before.histories.get(e.getKey());
        JsonArray after = second.get("/api/v1/services/" + e.getKey() + "/deployments").getJsonArray("deployments");
        assertEquals(was.stream().map(d -> ((JsonObject) d).getString("id")).toList(),
            after.stream().map(d -> ((JsonObject) d).getString("id")).toList());
        JsonObject current = after.getJsonObject(0);
        assertEquals("deployed", current.getString("state"));
        assertEquals(was.getJsonObject(0).getJsonObject("timeline").getString("deployed"), current.getJsonObject("timeline").getString("deployed"),
            "adopted, not activated again: " + current.encodePrettily());
        assertEquals(e.getValue(), second.get("/api/v1/services/" + e.getKey()).getJsonObject("current").getString("id"));
        String deploymentLog = second.logs(e.getValue());
        assertTrue(deploymentLog.contains("Adopted after the platform restarted"), deploymentLog);
      }
      assertEquals("stopped", second.get("/api/v1/services/alpha/deployments").getJsonArray("deployments").getJsonObject(1).getString("state"));

      // an adopted runner is not the platform's child: Java hears it end only by polling, late. Its channel's close is its
      // end: one killed is heard, and its service answers again from a new runner ...
      ProcessHandle betaRunner = adoptedRunner(second, before.ids.get("beta"));
      betaRunner.destroyForcibly();
      awaitNewRunner(second, "beta", before);
      assertTrue(second.logs(before.ids.get("beta")).contains("Crashed: "), second.logs(before.ids.get("beta")));
      // ... and one whose channel closes while it lives (here: another client says hello with its secret, and the
      // runner takes that one instead) is of no use to the platform any more: it is killed, its service starts again
      ProcessHandle alphaRunner = adoptedRunner(second, before.ids.get("alpha"));
      try (SocketChannel other = stealChannel(data, alphaRunner)) {
        awaitNewRunner(second, "alpha", before);
        alphaRunner.onExit().get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** The runner process the platform says (in the deployment's log) it adopted deployment {@code id} in. */
  private static ProcessHandle adoptedRunner(Child platform, String id) {
    Matcher m = Pattern.compile("still serving in runner \\S+ \\(pid (\\d+)\\)").matcher(platform.logs(id));
    assertTrue(m.find(), platform.logs(id));
    return ProcessHandle.of(Long.parseLong(m.group(1))).orElseThrow();
  }

  /** Waits until {@code service} answers, with its id from before the restart, from a runner other than the one it had. */
  private static void awaitNewRunner(Child platform, String service, Before before) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonObject answer = null;
    while (System.nanoTime() < deadline) {
      answer = platform.answer(service);
      if (answer != null && !before.pids.get(service).equals(answer.getString("jvm"))) break;
      TestPlatform.sleep(50);
    }
    assertNotNull(answer, service + " does not answer");
    assertNotEquals(before.pids.get(service), answer.getString("jvm"), service + " still answers from the runner it had");
    assertEquals(before.ids.get(service), answer.getString("deployment"));
  }

  /**
   * Says hello on {@code runner}'s channel with its secret (from its registry entry): the runner drops its platform's
   * connection for this one. Its answer is not awaited: the platform may kill the runner before the runner sends it.
   */
  private static SocketChannel stealChannel(Path data, ProcessHandle runner) throws Exception {
    JsonObject entry = registry(data).stream().filter(e -> e.getLong("jvm") == runner.pid()).findFirst().orElse(null);
    assertNotNull(entry, "no registry entry of " + runner);
    SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(entry.getString("socket")));
    send(ch, new JsonObject().put("id", 1).put("op", "hello").put("secret", entry.getString("secret")));
    return ch;
  }

  /** The runner registry's entries (each runner's {@code runner.json}). */
  private static List<JsonObject> registry(Path data) throws IOException {
    List<JsonObject> entries = new ArrayList<>();
    try (var dirs = Files.list(data.resolve("runners"))) {
      for (Path d : dirs.toList()) {
        Path f = d.resolve("runner.json");
        if (Files.exists(f)) entries.add(new JsonObject(Files.readString(f)).put("dir", d.toString()));
      }
    }
    return entries;
  }

  /** Sends {@code frame} on a runner's channel; its answer (the frames before it, events, are skipped). */
  private static JsonObject ask(SocketChannel ch, JsonObject frame) throws IOException {
    send(ch, frame);
    StringBuilder line = new StringBuilder();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (true) {
      one.clear();
      if (ch.read(one) < 0) throw new AssertionError("runner closed the channel instead of answering " + frame.getString("op"));
      char c = (char) one.get(0);
      if (c != '\n') {
        line.append(c);
        continue;
      }
      JsonObject f = new JsonObject(line.toString());
      line.setLength(0);
      if (frame.getValue("id").equals(f.getValue("re"))) return f;
    }
  }

  private static void send(SocketChannel ch, JsonObject frame) throws IOException {
    ch.write(ByteBuffer.wrap((frame.encode() + "\n").getBytes(StandardCharsets.UTF_8)));
  }

  /** Waits until process {@code pid} has ended (it is no child of the test: its end is seen by looking). */
  private static void awaitGone(long pid, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      assertTrue(System.nanoTime() < deadline, what + " (pid " + pid + ") still runs");
      TestPlatform.sleep(50);
    }
  }

  /** What an idle runner of {@code entry} says to a hello with its secret (the channel closed after). */
  private static JsonObject hello(JsonObject entry) throws IOException {
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(entry.getString("socket")))) {
      return ask(ch, new JsonObject().put("id", 1).put("op", "hello").put("secret", entry.getString("secret")));
    }
  }

  @Test
  void after_sigkill_idle_warm_runners_never_given_a_service_join_the_new_platforms_warm_pool() throws Exception {
    JsonObject run = new JsonObject().put("warmRunners", 3);
    try (Site site = new Site("ferry-pool")) {
      Path data = site.data;
      List<JsonObject> pool = new ArrayList<>();
      try (Child first = site.start(run)) {
        // a deploy takes a runner of the pool, which refills: the runner it took is no pool runner any more
        first.deploy("hello", "alpha");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (pool.size() < 3) {
          assertTrue(System.nanoTime() < deadline, "the warm pool did not fill: " + registry(data));
          TestPlatform.sleep(100);
          pool.clear();
          for (JsonObject e : registry(data)) {
            if (e.getString("pool") != null && e.getLong("jvm", -1L) > 0 && e.getString("socket") != null) pool.add(e);
          }
        }
        first.kill();
      }
      // each says it never held a service; once it has warmed up, it says so too
      for (JsonObject e : pool) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonObject answer = null;
        while (answer == null || !answer.getBoolean("warm")) {
          assertTrue(System.nanoTime() < deadline, "runner " + e.getString("id") + " did not warm up: " + answer);
          try {
            answer = hello(e);
          } catch (IOException notListeningYet) {
            // still starting
          }
          TestPlatform.sleep(100);
        }
        assertTrue(answer.getBoolean("pristine"), answer.encode());
      }
      // one is given a service (here by a client with its secret): the runner says so, and no platform may pool it
      JsonObject given = pool.get(0);
      try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(given.getString("socket")))) {
        ask(ch, new JsonObject().put("id", 1).put("op", "hello").put("secret", given.getString("secret")));
        ask(ch, new JsonObject().put("id", 2).put("op", "load").put("deployment", "0mtenantcode1").put("service", "tenant")
            .put("jars", new JsonArray()).put("entry", "tenant.Main"));
      }
      assertFalse(hello(given).getBoolean("pristine"));
      // another's registry entry says it was given a service (as a platform killed between that and the load leaves it),
      // whatever the runner says: the platform's own record counts
      JsonObject marked = pool.get(1);
      Path markedEntry = Path.of(marked.getString("dir"), "runner.json");
      JsonObject m = new JsonObject(Files.readString(markedEntry));
      m.remove("pool");
      Files.writeString(markedEntry, m.encode());
      JsonObject kept = pool.get(2);

      Child second = site.start(run);
      awaitGone(given.getLong("jvm"), "the runner given a service");
      awaitGone(marked.getLong("jvm"), "the runner its registry entry says was given a service");
      assertTrue(ProcessHandle.of(kept.getLong("jvm")).map(ProcessHandle::isAlive).orElse(false), "the idle warm runner never given a service runs");
      // the next deploy runs in it
      String beta = second.deploy("hello", "beta").getString("id");
      assertTrue(second.logs(beta).contains("(pid " + kept.getLong("jvm") + ")"), second.logs(beta));
      // given a service, it is a pool runner no more: its entry lost its pool key before the service's code reached it
      assertNull(new JsonObject(Files.readString(Path.of(kept.getString("dir"), "runner.json"))).getString("pool"));
      assertEquals(200, second.viaProxy("beta").statusCode());
    }
  }

  @Test
  void after_sigkill_of_the_platform_and_its_runners_every_service_wakes_from_its_stored_artifact_on_its_first_request() throws Exception {
    JsonObject current = platformAndRunnersKilled(new JsonObject(), "beta");
    // restored asleep (no runner outlived the platform), woken by its first request: nothing rebuilt, nothing started before
    assertTrue(current.getJsonObject("timeline").containsKey("sleeping"), current.encodePrettily());
    assertEquals(current.getJsonObject("before").getString("loaded"), current.getJsonObject("timeline").getString("loaded"),
        "not loaded again before its first request: " + current.encodePrettily());
  }

  @Test
  void with_idle_timeout_zero_after_sigkill_of_the_platform_and_its_runners_every_service_is_activated_again_at_once() throws Exception {
    JsonObject current = platformAndRunnersKilled(new JsonObject().put("idleTimeoutMs", 0), "beta");
    // loaded again from its stored artifact at once, under its own id: it never stopped
    assertTrue(Instant.parse(current.getJsonObject("timeline").getString("loaded"))
        .isAfter(Instant.parse(current.getJsonObject("before").getString("deployed"))), current.encodePrettily());
    assertFalse(current.getJsonObject("timeline").containsKey("sleeping"), current.encodePrettily());
  }

  @Test
  void a_service_whose_restore_another_kill_cut_short_is_restored_again_not_failed() throws Exception {
    // what a kill during a restore from the stored artifact leaves: the deployment loaded again, on its way back, no runner
    JsonObject current = platformAndRunnersKilled(new JsonObject(), "beta", data -> {
      try (SqliteLedger ledger = SqliteLedger.open(new DataDir(data).ledger())) {
        DeploymentRow was = ledger.reader().deployments("beta").get(0);
        assertEquals("deployed", was.state());
        Map<String, Instant> timeline = new LinkedHashMap<>(was.timeline());
        Instant now = Instant.now();
        timeline.put("built", now);
        timeline.put("loaded", now);
        ledger.writer().record(new DeploymentRow(was.id(), was.service(), "loaded", was.createdAt(), now, timeline, was.artifact(),
            null, null, null, null, null, was.source()));
      }
    });
    // the same deployment serves again (its id answered, above), never failed on the way
    assertEquals(current.getJsonObject("before").getString("queued"), current.getJsonObject("timeline").getString("queued"));
    assertFalse(current.getJsonObject("timeline").containsKey("error"), current.encodePrettily());
  }

  /** Something done to the data dir while no platform runs. */
  private interface DataDirChange {
    void apply(Path data) throws Exception;
  }

  private JsonObject platformAndRunnersKilled(JsonObject run, String service) throws Exception {
    return platformAndRunnersKilled(run, service, data -> { });
  }

  /**
   * Deploys, kills the platform and its runners with SIGKILL, applies {@code meanwhile} to the data
   * dir, starts it again with {@code run} settings: no request is ever told 404, every service
   * answers from its stored artifact in a new runner; returns the current deployment of {@code service}.
   */
  private JsonObject platformAndRunnersKilled(JsonObject run, String service, DataDirChange meanwhile) throws Exception {
    try (Site site = new Site("ferry-restart")) {
      Before before;
      try (Child first = site.start(run)) {
        List<ProcessHandle> runners = new ArrayList<>();
        before = deployAndKillWith(first, runners);
        for (ProcessHandle r : runners) {
          // the runner and its sandbox, every process of it
          r.descendants().forEach(ProcessHandle::destroyForcibly);
          r.destroyForcibly();
        }
        // all killed, then awaited together (not children of ours, each exit is polled for)
        for (ProcessHandle r : runners) r.onExit().get(10, TimeUnit.SECONDS);
      }
      meanwhile.apply(site.data);
      Child second = site.start(run);
      // up, still restoring: a request for a service that exists waits for it, it is never told there is no such service
      for (String s : before.ids.keySet()) {
        HttpResponse<Buffer> r = second.viaProxy(s);
        assertNotEquals(404, r.statusCode(), s + " during the restore: " + r.bodyAsString());
      }
      assertEquals(List.copyOf(before.ids.keySet()), second.awaitAnswering(before.ids), "services answering with their ids after the restart");
      for (var e : before.ids.entrySet()) {
        JsonArray was = before.histories.get(e.getKey());
        JsonObject current = second.get("/api/v1/services/" + e.getKey() + "/deployments").getJsonArray("deployments").getJsonObject(0);
        assertEquals("deployed", current.getString("state"));
        // from the stored artifact: the same jar, nothing rebuilt
        assertEquals(was.getJsonObject(0).getJsonObject("artifact"), current.getJsonObject("artifact"));
      }
      for (var e : before.pids.entrySet()) assertNotEquals(e.getValue(), second.answer(e.getKey()).getString("jvm"), "a new runner");
      // the slow-ready service kept its readiness path: it answers only once ready
      HttpResponse<Buffer> gamma = second.viaProxy("gamma");
      assertTrue(gamma.bodyAsJsonObject().getBoolean("ready"), gamma.bodyAsString());
      // with its timeline before the kill, to compare
      return second.get("/api/v1/services/" + service + "/deployments").getJsonArray("deployments").getJsonObject(0)
          .put("before", before.histories.get(service).getJsonObject(0).getJsonObject("timeline"));
    }
  }

  /** {@link #deployAndKill}, noting the runner processes the platform had (its children) before the kill. */
  private static Before deployAndKillWith(Child first, List<ProcessHandle> runners) throws Exception {
    Map<String, String> ids = new LinkedHashMap<>();
    first.deploy("hello", "alpha");
    ids.put("alpha", first.deploy("hello", "alpha").getString("id"));
    ids.put("beta", first.deploy("hello", "beta").getString("id"));
    ids.put("gamma", first.deploy("slow-ready", "gamma").getString("id"));
    Map<String, JsonArray> histories = new LinkedHashMap<>();
    for (String s : ids.keySet()) histories.put(s, first.get("/api/v1/services/" + s + "/deployments").getJsonArray("deployments"));
    Map<String, String> pids = new LinkedHashMap<>();
    for (String s : List.of("alpha", "beta")) pids.put(s, first.answer(s).getString("jvm"));
    runners.addAll(first.process.children().toList());
    first.kill();
    return new Before(ids, pids, histories, first.token);
  }

  @Test
  void runners_no_platform_adopts_exit_after_the_grace_period() throws Exception {
    try (Site site = new Site("ferry-orphans"); Child first = site.start(new JsonObject().put("orphanGraceMs", ORPHAN_GRACE_MS))) {
      first.deploy("hello", "alpha");
      List<ProcessHandle> runners = first.process.children().toList();
      assertFalse(runners.isEmpty(), "the platform runs its services (and warm runners) as child processes");
      first.kill();
      long killed = System.nanoTime();
      for (ProcessHandle r : runners) r.onExit().get(ORPHAN_GRACE_MS + 10_000, TimeUnit.MILLISECONDS);
      long waited = (System.nanoTime() - killed) / 1_000_000;
      assertTrue(waited >= ORPHAN_GRACE_MS - 1_000, "the runners waited out their grace period (" + waited + " ms) before exiting");
      assertTrue(runners.stream().noneMatch(ProcessHandle::isAlive), "no runner outlives the grace period");
    }
  }

  @Test
  void deployments_caught_mid_way_are_marked_interrupted_by_restart() throws Exception {
    Path data = Files.createTempDirectory("ferry-interrupted");
    Instant t = Instant.now().minusSeconds(60);
    Files.createDirectories(new DataDir(data).uploads());
    Files.writeString(new DataDir(data).upload("000000001aaaa"), "half an upload");
    try (SqliteLedger ledger = SqliteLedger.open(new DataDir(data).ledger())) {
      ledger.writer().record(DeploymentRow.fromJson(new JsonObject().put("id", "000000001aaaa").put("service", "web").put("state", "queued")
          .put("createdAt", t.toString()).put("updatedAt", t.toString()).put("timeline", new JsonObject().put("queued", t.toString()))));
      ledger.writer().record(DeploymentRow.fromJson(new JsonObject().put("id", "000000002bbbb").put("service", "api").put("state", "built")
          .put("createdAt", t.toString()).put("updatedAt", t.toString())
          .put("timeline", new JsonObject().put("queued", t.toString()).put("built", t.toString()))
          .put("artifact", new JsonObject().put("path", data.resolve("artifacts/api/000000002bbbb.jar").toString()).put("sha256", "x"))));
    }
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data))) {
      ferry.platform.restored().await();
      JsonObject web = ferry.awaitFinal("000000001aaaa");
      assertEquals("error", web.getString("state"));
      assertEquals("interrupted by restart", web.getString("error"));
      assertEquals("build", web.getString("stage"));
      JsonObject api = ferry.awaitFinal("000000002bbbb");
      assertEquals("error", api.getString("state"));
      assertEquals("load", api.getString("stage"));
      assertFalse(Files.exists(new DataDir(data).upload("000000001aaaa")));
    } finally {
      TestPlatform.deleteTree(data);
    }
  }
}
