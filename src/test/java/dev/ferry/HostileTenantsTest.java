package dev.ferry;

import dev.ferry.sandbox.Sandbox;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tenants who attack the platform, one case each, while a bystander serves steady requests through
 * the proxy (not one may fail) and with the platform's health checked after each: reading and
 * writing the data dir, running a shell through reflection and method handles, native code, ten
 * thousand threads, every file descriptor, a full /tmp, a resident memory past its limit,
 * annotation processors that escape, exit, loop or allocate at build time, and a flood of idle
 * connections and stalled uploads while a deploy goes through. The sandbox (bubblewrap) must be
 * there: CI installs it (.ci/run); elsewhere these are skipped, saying so.
 */
@Tag("platform")
class HostileTenantsTest {

  static final long HEADER_MS = Config.DEFAULTS.server().headerTimeoutMs(), STALL_MS = 2_000, BUILD_TIMEOUT_MS = 8_000;
  static final int BUILD_MEMORY_MB = 96;
  // deleted after the platform stopped
  @TempDir
  static Path data;
  @TempDir
  static Path repoDir;
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("dataDir", withToken(data)).with("token", null).with("server.headerTimeoutMs", HEADER_MS)
      .with("upload.stallTimeoutMs", STALL_MS).with("build.timeoutMs", BUILD_TIMEOUT_MS).with("build.memoryMb", BUILD_MEMORY_MB)
      .with("maven.remoteRepositories", List.of(repoDir.toUri().toString(), FileRepository.mavenLocalRepositoryUrl())));
  static String intruder;
  static JsonObject victim;
  SteadyLoad load;

  /** {@code dir} with a generated token stored in it, as a platform that was given none keeps it. */
  static Path withToken(Path dir) {
    try {
      Path token = dir.resolve("token");
      Files.writeString(token, TestPlatform.TOKEN + "\n");
      Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
      return dir;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @BeforeAll
  static void deployTenants() throws Exception {
    assumeTrue(TestPlatform.SANDBOX, "bubblewrap (bwrap) is not installed: the sandbox cannot be tested here (CI installs it)");
    installProcessors(new FileRepository(repoDir));
    assertEquals("deployed", ferry.deploy("hello", "bystander").getString("state"));
    victim = ferry.deploy("hello", "victim");
    assertEquals("deployed", victim.getString("state"));
    JsonObject d = ferry.deploy("intruder", "intruder");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    intruder = d.getString("id");
  }

  @BeforeEach
  void startLoad() {
    load = new SteadyLoad(ferry, "bystander");
  }

  @AfterEach
  void theBystanderNeverNoticedAndThePlatformIsHealthy() {
    SteadyLoad.Result r = load.stop();
    assertTrue(r.ok() > 0, "the bystander was under load: " + r);
    assertEquals(0, r.failed(), "the bystander failed requests: " + r);
    assertEquals(200, ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", "/health").send().await().statusCode());
    assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services").statusCode());
    assertEquals("world", ferry.viaProxy("bystander", "/").bodyAsJsonObject().getString("hello"));
    assertEquals("deployed", ferry.api(HttpMethod.GET, "/api/v1/services/victim").bodyAsJsonObject().getJsonObject("current")
        .getString("state"));
  }

  // ---- the file system ---------------------------------------------------------------------

  @Test
  void a_tenant_reads_nothing_of_the_platform_nor_of_another_tenant() throws Exception {
    Path victimSource = data.resolve("builds").resolve(victim.getString("id")).resolve("src/src/main/java/fixture/hello/Hello.java");
    Path victimJar = data.resolve("artifacts/victim/" + victim.getString("id") + ".jar");
    long platformPid = ProcessHandle.current().pid();
    List<Path> secrets = List.of(data.resolve("token"), data.resolve("ledger.db"), data.resolve("secrets.key"), victimSource, victimJar,
        Path.of("/proc", String.valueOf(platformPid), "environ"), Path.of("/proc", String.valueOf(platformPid), "cmdline"));
    for (Path p : secrets) {
      assertTrue(Files.isReadable(p), "the platform has " + p);
      JsonObject r = intrude("/read", p);
      assertFalse(r.getBoolean("ok"), "the tenant read " + p + ": " + r);
      assertTrue(r.getString("error").contains("NoSuchFileException"), "it is not even there for it: " + r);
    }
    for (Path dir : List.of(data, data.resolve("artifacts"), Path.of("/root"), Path.of(System.getProperty("user.home")))) {
      JsonObject r = intrude("/list", dir);
      assertFalse(r.getBoolean("ok"), "the tenant listed " + dir + ": " + r);
    }
    JsonArray root = intrude("/list", Path.of("/")).getJsonArray("names");
    for (Object name : root) {
      assertTrue(List.of("bin", "dev", "etc", "ferry", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr").contains(name),
          "the root it sees holds only the system and its own files: " + root);
    }
    // its own /proc shows its own sandbox only
    JsonArray pids = intrude("/list", Path.of("/proc")).getJsonArray("names");
    assertFalse(pids.contains(String.valueOf(platformPid)), "the platform's pid is not in its /proc: " + pids);
    long processes = pids.stream().map(String::valueOf).filter(n -> n.matches("[0-9]+")).count();
    assertTrue(processes <= 3, "its /proc holds its sandbox's few processes: " + pids);
  }

  @Test
  void a_tenant_writes_nothing_into_the_data_dir_nor_into_its_own_or_another_tenants_jars() throws Exception {
    Path victimJar = data.resolve("artifacts/victim/" + victim.getString("id") + ".jar");
    String before = sha256(victimJar);
    String ownJar = intrude("/own-jar", null).getString("path");
    assertTrue(ownJar.startsWith(Sandbox.INSIDE + "/lib/"), "it runs from its staged, read-only copy: " + ownJar);
    for (String p : List.of(data.resolve("written-by-a-tenant").toString(), victimJar.toString(),
        data.resolve("artifacts/intruder/" + intruder + ".jar").toString(), ownJar, "/usr/lib/written-by-a-tenant")) {
      JsonObject r = ferry.viaProxy("intruder", "/write?path=" + p).bodyAsJsonObject();
      assertFalse(r.getBoolean("ok"), "the tenant wrote " + p + ": " + r);
    }
    assertFalse(Files.exists(data.resolve("written-by-a-tenant")));
    assertEquals(before, sha256(victimJar), "the victim's artifact is unchanged");
    assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(victimJar)), "artifacts are written read-only");
  }

  // ---- code that runs other code -------------------------------------------------------------

  @Test
  void a_shell_started_through_reflection_or_a_method_handle_is_sandboxed_and_not_root() {
    String cmd = "id -u; cat " + data.resolve("token") + "; ls " + data + "; ls /root; echo end";
    for (String how : List.of("reflection", "methodhandle")) {
      JsonObject r = ferry.viaProxy("intruder", "/exec?how=" + how + "&cmd=" + java.net.URLEncoder.encode(cmd, StandardCharsets.UTF_8))
          .bodyAsJsonObject();
      assertTrue(r.getBoolean("ok"), "the bytecode check does not see it, so the shell runs: " + r);
      List<String> out = r.getString("out").lines().toList();
      assertEquals(String.valueOf(Sandbox.UID), out.get(0), "not root: " + r);
      assertEquals("end", out.get(out.size() - 1), r.encodePrettily());
      assertEquals(2, out.size(), "it printed nothing of the data dir: " + r);
      assertFalse(r.getString("out").contains(TestPlatform.TOKEN) || r.getString("err").contains(TestPlatform.TOKEN), r.encodePrettily());
      assertTrue(r.getString("err").contains("No such file"), "the data dir and /root are not there: " + r);
    }
  }

  @Test
  void native_code_loaded_with_system_load_is_confined_like_the_rest() throws Exception {
    Path lib = compileProbeLibrary();
    Path tree = copyFixture("intruder", Map.of(), Map.of("src/main/resources/native/libprobe.so", Files.readAllBytes(lib)));
    try {
      JsonObject d = ferry.awaitFinal(ferry.upload("native", TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
      assertEquals("deployed", d.getString("state"), d.encodePrettily());
      JsonObject r = ferry.viaProxy("native", "/jni?target=" + data.resolve("token")).bodyAsJsonObject();
      assertTrue(r.getBoolean("ok"), "the library loads: " + r);
      // open(2) of the token: not there (ENOENT); it runs as nobody; setuid(0) fails
      assertEquals("open=-1 errno=2 uid=" + Sandbox.UID + " setuid0=-1", r.getString("result"), r.encodePrettily());
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/native");
      TestPlatform.deleteTree(tree);
      TestPlatform.deleteTree(lib.getParent());
    }
  }

  // ---- exhaustion --------------------------------------------------------------------------------

  @Test
  void ten_thousand_threads_stop_at_the_runners_limit_and_end_with_its_runner() {
    JsonObject d = ferry.deploy("intruder", "spawner");
    assertEquals("deployed", d.getString("state"));
    String runnerId = ferry.platform.runtime().runnerOf(d.getString("id")).orElseThrow().id();
    long pid = ferry.runnerPid("spawner");
    try {
      JsonObject r = ferry.viaProxy("spawner", "/threads?n=10000").bodyAsJsonObject();
      assertTrue(r.getBoolean("ok"), r.encodePrettily());
      int max = ferry.platform.config().run().maxProcesses();
      assertTrue(r.getInteger("started") < max, "stopped by its limit of " + max + " processes and threads: " + r);
      assertTrue(r.getString("error").contains("unable to create native thread"), r.encodePrettily());
      long inGroup = ferry.platform.sandbox().processes(runnerId);
      assertTrue(inGroup < 0 || inGroup <= max, "its cgroup holds " + inGroup);
    } finally {
      assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/spawner").statusCode());
    }
    awaitGone(pid);
    long deadline = System.currentTimeMillis() + 10_000;
    while (ferry.platform.sandbox().processes(runnerId) != -1 && System.currentTimeMillis() < deadline) TestPlatform.sleep(50);
    assertEquals(-1, ferry.platform.sandbox().processes(runnerId), "its cgroup is gone with it");
  }

  @Test
  void opening_every_file_descriptor_stops_at_the_runners_own_limit() {
    JsonObject r = ferry.viaProxy("intruder", "/files?n=100000").bodyAsJsonObject();
    assertTrue(r.getBoolean("ok"), r.encodePrettily());
    int max = ferry.platform.config().run().maxOpenFiles();
    assertTrue(r.getInteger("opened") < max, "stopped by its limit of " + max + " open files: " + r);
    assertTrue(r.getString("error").contains("Too many open files"), r.encodePrettily());
    // the platform opens connections as before
    for (int i = 0; i < 20; i++) assertEquals(200, ferry.viaProxy("victim", "/").statusCode());
  }

  @Test
  void filling_tmp_stops_at_its_size_and_the_hosts_disk_is_untouched() throws Exception {
    long freeBefore = Files.getFileStore(data).getUsableSpace();
    JsonObject r = ferry.viaProxy("intruder", "/fill?mb=512").bodyAsJsonObject();
    assertTrue(r.getBoolean("ok"), r.encodePrettily());
    long limit = ferry.platform.config().run().tmpMb() * 1024L * 1024L;
    assertTrue(r.getLong("written") <= limit, "no more than run.tmpMb: " + r);
    assertTrue(r.getLong("written") >= limit / 2, "it wrote until /tmp was full: " + r);
    assertTrue(r.getString("error").contains("No space left on device"), r.encodePrettily());
    long freeAfter = Files.getFileStore(data).getUsableSpace();
    assertTrue(freeBefore - freeAfter < 32L * 1024 * 1024, "the data dir's disk did not fill: " + (freeBefore - freeAfter) + " bytes");
    // and it still serves
    assertTrue(intrude("/", null).getBoolean("ok"));
  }

  @Test
  void resident_memory_past_the_services_own_limit_ends_its_runner_and_the_cause_says_so() throws Exception {
    // its pom asks for less memory and a larger /tmp, whose pages count as its memory
    Path tree = copyFixture("intruder", Map.of(), Map.of("pom.xml", ("<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0"
        + "</modelVersion><groupId>fixture</groupId><artifactId>hog</artifactId><version>1</version><properties>"
        + "<ferry.memoryMb>64</ferry.memoryMb><ferry.rssMb>192</ferry.rssMb><ferry.tmpMb>512</ferry.tmpMb></properties></project>")
        .getBytes(StandardCharsets.UTF_8)));
    try {
      JsonObject d = ferry.awaitFinal(ferry.upload("hog", TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
      assertEquals("deployed", d.getString("state"), d.encodePrettily());
      long pid = ferry.runnerPid("hog");
      assumeTrue(!ferry.platform.sandbox().unenforced().containsKey("rss"), "no memory cgroup here: "
          + ferry.platform.sandbox().unenforced().get("rss"));
      HttpResponse<Buffer> r = ferry.viaProxy("hog", "/fill?mb=400");
      assertNotEquals(200, r.statusCode(), "it did not get to answer: " + r.bodyAsString());
      awaitGone(pid);
      String log = awaitLog(d.getString("id"), "Crashed");
      assertTrue(log.contains("its resident memory reached its limit of 192 MB"), log);
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/hog");
      TestPlatform.deleteTree(tree);
    }
  }

  @Test
  void a_tenant_spinning_many_threads_gets_no_more_cpu_than_one_spinning_one() throws Exception {
    assumeTrue(!ferry.platform.sandbox().unenforced().containsKey("cpu"), "no cpu cgroup here: "
        + ferry.platform.sandbox().unenforced().get("cpu"));
    assertEquals("deployed", ferry.deploy("intruder", "spin-many").getString("state"));
    assertEquals("deployed", ferry.deploy("intruder", "spin-one").getString("state"));
    try {
      // the runners the pool started to replace the two it gave have warmed up: the spinners contend with each other only
      // (a suite's run once saw the one spinning thread get 0.34 s of CPU in 4 s beside two warm-ups)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!ferry.platform.runtime().runners().poolWarm().await() && System.nanoTime() < deadline) TestPlatform.sleep(50);
      long many = ferry.runnerPid("spin-many"), one = ferry.runnerPid("spin-one");
      double manyBefore = cpuSeconds(many), oneBefore = cpuSeconds(one);
      // both at once, four threads a core against one: the CPU is contended
      int cores = Runtime.getRuntime().availableProcessors();
      var a = ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/spin?threads=" + 4 * cores + "&ms=4000").putHeader("Host", "spin-many.localhost").send();
      var b = ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/spin?threads=1&ms=4000").putHeader("Host", "spin-one.localhost").send();
      assertEquals(200, a.await().statusCode());
      assertEquals(200, b.await().statusCode());
      double manyUsed = cpuSeconds(many) - manyBefore, oneUsed = cpuSeconds(one) - oneBefore;
      assertTrue(manyUsed > 0.5 && oneUsed > 0.5, "both spun: " + manyUsed + " s and " + oneUsed + " s of CPU");
      // each runner weighs as one busy thread: one thread's runner gets a core, the other the rest (cores - 1 times
      // as much); unconfined, every thread weighs the same and the many would take about 4 * cores times as much
      assertTrue(manyUsed / oneUsed < 2 * cores, 4 * cores + " threads took " + manyUsed + " s of CPU, one took " + oneUsed + " s");
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/spin-many");
      ferry.api(HttpMethod.DELETE, "/api/v1/services/spin-one");
    }
  }

  /** CPU time a process has used (user + system), from the host's /proc. */
  private static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  // ---- build time --------------------------------------------------------------------------------

  @Test
  void an_annotation_processor_reads_and_writes_nothing_of_the_platform_and_runs_as_nobody() throws Exception {
    String marker = "ferry-processor-" + System.nanoTime();
    Path tree = copyFixture("processor-escapes", Map.of("@DATA_DIR@", data.toString(), "@MARKER@", marker), Map.of());
    try {
      JsonObject d = ferry.awaitFinal(ferry.upload("escapes", TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
      assertEquals("deployed", d.getString("state"), "the build itself succeeds: " + d.encodePrettily());
      JsonObject seen = ferry.viaProxy("escapes", "/").bodyAsJsonObject();
      assertTrue(seen.getString("read").contains("NoSuchFileException"), "it could not read the token: " + seen);
      assertTrue(seen.getString("list").contains("NoSuchFileException"), "it could not list the data dir: " + seen);
      assertTrue(seen.getString("write").contains("Exception"), "it could not write the data dir: " + seen);
      assertEquals("written", seen.getString("hostTmp"), "its /tmp is its own: " + seen);
      assertEquals(String.valueOf(Sandbox.UID), seen.getString("uid"), seen.encodePrettily());
      assertFalse(Files.exists(data.resolve("written-by-a-processor")));
      assertFalse(Files.exists(Path.of("/tmp", marker)), "what it wrote to its /tmp is not on the host");
    } finally {
      ferry.api(HttpMethod.DELETE, "/api/v1/services/escapes");
      TestPlatform.deleteTree(tree);
    }
  }

  @Test
  void an_annotation_processor_that_exits_loops_or_allocates_fails_only_its_own_build_saying_which() throws Exception {
    Map<String, String> expected = Map.of(
        "exit-processor", "did a processor call System.exit?",
        "loop-processor", "did not finish within " + BUILD_TIMEOUT_MS + " ms (build.timeoutMs)",
        "allocate-processor", "ran out of memory (build.memoryMb " + BUILD_MEMORY_MB + " MB)");
    for (var e : expected.entrySet()) {
      Path tree = copyFixture("hostile-processor", Map.of("@PROCESSOR@", e.getKey()), Map.of());
      try {
        long t0 = System.nanoTime();
        JsonObject d = ferry.awaitFinal(ferry.upload("processed", TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
        assertEquals("error", d.getString("state"), e.getKey() + ": " + d.encodePrettily());
        assertEquals("build", d.getString("stage"), d.encodePrettily());
        assertTrue(d.getString("error").contains(e.getValue()), e.getKey() + ": " + d.getString("error"));
        assertTrue((System.nanoTime() - t0) / 1_000_000 < BUILD_TIMEOUT_MS + 20_000, e.getKey() + " took too long");
      } finally {
        TestPlatform.deleteTree(tree);
      }
    }
    // the next build goes through
    assertEquals("deployed", ferry.deploy("hello", "after-processors").getString("state"));
    ferry.api(HttpMethod.DELETE, "/api/v1/services/after-processors");
  }

  @Test
  void processors_on_the_classpath_run_on_every_build_not_only_a_threads_first() throws Exception {
    for (int i = 0; i < 2; i++) {
      Path tree = copyFixture("processors", Map.of(), Map.of());
      try {
        // the processor as a plain (provided) dependency, found on the classpath; a new source each time, so no cache hit
        Path pom = tree.resolve("pom.xml");
        Files.writeString(pom, Files.readString(pom).replaceAll("(?s)<build>.*</build>", "")
            .replace("</properties>", "</properties><dependencies><dependency><groupId>fixture.proc</groupId>"
                + "<artifactId>banner-processor</artifactId><version>1.0</version><scope>provided</scope></dependency></dependencies>"));
        Files.writeString(tree.resolve("src/main/java/fixture/processors/Build" + i + ".java"),
            "package fixture.processors; class Build" + i + " { }");
        JsonObject d = ferry.awaitFinal(ferry.upload("classpath-processed", TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
        assertEquals("deployed", d.getString("state"), "build " + i + ": " + d.encodePrettily());
        assertTrue(ferry.viaProxy("classpath-processed", "/").bodyAsString().startsWith("made by a processor"));
      } finally {
        TestPlatform.deleteTree(tree);
      }
    }
    ferry.api(HttpMethod.DELETE, "/api/v1/services/classpath-processed");
  }

  // ---- the network ---------------------------------------------------------------------------------

  @Test
  void two_thousand_idle_connections_and_sixty_four_stalled_uploads_do_not_stop_a_deploy() throws Exception {
    List<Socket> idle = new ArrayList<>();
    List<Socket> stalled = new ArrayList<>();
    long opened = System.nanoTime();
    try {
      // from eight client addresses, half to each port: no one address reaches its cap
      for (int i = 0; i < 2_000; i++) {
        idle.add(ServerHardeningTest.connect("127.0.0." + (2 + i % 8), i % 2 == 0 ? ferry.apiPort() : ferry.proxyPort()));
      }
      int capacity = ferry.platform.config().build().queueCapacity();
      for (int i = 0; i < capacity; i++) {
        Socket s = ServerHardeningTest.connect("127.0.0.10", ferry.apiPort());
        s.getOutputStream().write(("POST /api/v1/services/stall" + i + "/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + TestPlatform.TOKEN + "\r\nContent-Type: application/gzip\r\nContent-Length: 1000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().write(new byte[512]);
        s.getOutputStream().flush();
        stalled.add(s);
      }
      long t0 = System.nanoTime();
      Path archive = TestPlatform.pack("hello");
      HttpResponse<Buffer> first = ferry.upload("through", archive);
      assertEquals(503, first.statusCode(), "the stalled uploads hold every place of the build queue at first: " + first.bodyAsString());
      // the deploy retries as Retry-After says, and goes through once the stalled uploads are cut
      HttpResponse<Buffer> accepted = first;
      while (accepted.statusCode() == 503 && (System.nanoTime() - t0) / 1_000_000 < STALL_MS + 10_000) {
        TestPlatform.sleep(250);
        accepted = ferry.upload("through", archive);
      }
      assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
      JsonObject d = ferry.awaitFinal(accepted.bodyAsJsonObject().getString("id"));
      assertEquals("deployed", d.getString("state"), d.encodePrettily());
      assertTrue((System.nanoTime() - opened) / 1_000_000 < HEADER_MS, "deployed while the idle connections were still open");
      for (Socket s : stalled) assertTrue(ServerHardeningTest.readResponse(s).startsWith("HTTP/1.1 408"));
      long partial;
      long deadline = System.currentTimeMillis() + 5_000;
      do {
        try (Stream<Path> uploads = Files.list(ferry.platform.dataDir().uploads())) {
          partial = uploads.count();
        }
      } while (partial > 0 && System.currentTimeMillis() < deadline);
      assertEquals(0, partial, "no partial upload is left");
      // every idle connection is closed by the header timeout
      int open = 0;
      for (Socket s : idle) {
        if (!ServerHardeningTest.closedWithin(s, Math.max(1, HEADER_MS + 5_000 - (System.nanoTime() - opened) / 1_000_000))) open++;
      }
      assertEquals(0, open, "idle connections still open after the header timeout");
    } finally {
      for (Socket s : idle) s.close();
      for (Socket s : stalled) s.close();
      ferry.api(HttpMethod.DELETE, "/api/v1/services/through");
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static JsonObject intrude(String route, Path path) {
    HttpResponse<Buffer> r = ferry.viaProxy("intruder", route + (path == null ? "" : "?path=" + path));
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private static String awaitLog(String id, String part) {
    long deadline = System.currentTimeMillis() + 20_000;
    String log;
    do {
      log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString();
      if (log.contains(part)) return log;
      TestPlatform.sleep(100);
    } while (System.currentTimeMillis() < deadline);
    return log;
  }

  static void awaitGone(long pid) {
    if (!TestPlatform.awaitExit(pid, Duration.ofSeconds(20))) throw new AssertionError("runner " + pid + " still alive");
  }

  static String sha256(Path f) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
  }

  /** A copy of fixture {@code name} with {@code replace}ments made in every text file and {@code extra} files added. */
  static Path copyFixture(String name, Map<String, String> replace, Map<String, byte[]> extra) throws IOException {
    Path from = TestPlatform.FIXTURES.resolve(name);
    Path to = Files.createTempDirectory("fixture-" + name);
    try (Stream<Path> s = Files.walk(from)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        Path dest = to.resolve(from.relativize(f).toString());
        Files.createDirectories(dest.getParent());
        String text = Files.readString(f);
        for (var r : replace.entrySet()) text = text.replace(r.getKey(), r.getValue());
        Files.writeString(dest, text);
      }
    }
    for (var e : extra.entrySet()) {
      Path dest = to.resolve(e.getKey());
      Files.createDirectories(dest.getParent());
      Files.write(dest, e.getValue());
    }
    return to;
  }

  /** A shared library whose constructor opens the file named in jni-target, and tries to become root; gcc builds it. */
  private static Path compileProbeLibrary() throws Exception {
    assumeTrue(Sandbox.bwrapInstalled() && new ProcessBuilder("gcc", "--version").start().waitFor() == 0,
        "gcc is not installed: the native library cannot be built here");
    Path dir = Files.createTempDirectory("probe");
    Files.writeString(dir.resolve("probe.c"), """
        #include <errno.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        __attribute__((constructor)) static void probe(void) {
          char target[4096] = {0};
          /* the service wrote the target into its temp dir, /tmp in its sandbox */
          FILE *in = fopen("/tmp/jni-target", "r");
          if (!in) return;
          if (!fgets(target, sizeof target, in)) target[0] = 0;
          fclose(in);
          int fd = open(target, O_RDONLY);
          int err = fd < 0 ? errno : 0;
          int became = setuid(0);
          FILE *out = fopen("/tmp/jni-result", "w");
          if (!out) return;
          fprintf(out, "open=%d errno=%d uid=%d setuid0=%d\\n", fd < 0 ? -1 : fd, err, (int) getuid(), became);
          fclose(out);
        }
        """);
    Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", dir.resolve("libprobe.so").toString(), dir.resolve("probe.c").toString())
        .redirectErrorStream(true).start();
    String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0, "gcc: " + out);
    return dir.resolve("libprobe.so");
  }

  /** The hostile processors, and the banner processor of the processors fixture, compiled into a file repository. */
  private static void installProcessors(FileRepository repo) throws IOException {
    String head = """
        package fixture.hostile;
        import javax.annotation.processing.*;
        import javax.lang.model.SourceVersion;
        import javax.lang.model.element.*;
        import java.util.*;
        @SupportedAnnotationTypes("*")
        public class %s extends AbstractProcessor {
          @Override public SourceVersion getSupportedSourceVersion() { return SourceVersion.latestSupported(); }
          @Override public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
            %s
            return false;
          }
          %s
        }
        """;
    Map<String, String> services = Map.of("META-INF/services/javax.annotation.processing.Processor", "fixture.hostile.P\n");
    repo.install("fixture.hostile", "exit-processor", "1.0", Map.of("fixture.hostile.P", head.formatted("P", "System.exit(7);", "")), services);
    repo.install("fixture.hostile", "loop-processor", "1.0",
        Map.of("fixture.hostile.P", head.formatted("P", "long n = 0; while (n >= 0) n++; System.out.println(n);", "")), services);
    repo.install("fixture.hostile", "allocate-processor", "1.0", Map.of("fixture.hostile.P", head.formatted("P",
        "List<long[]> hoard = new ArrayList<>(); while (hoard.size() >= 0) hoard.add(new long[1 << 20]);", "")), services);
    repo.install("fixture.hostile", "escape-processor", "1.0", Map.of("fixture.hostile.P", head.formatted("P", """
        if (round.processingOver() || done) return false;
        done = true;
        Map<String, String> targets = new HashMap<>();
        for (Element root : round.getRootElements()) {
          for (Element e : root.getEnclosedElements()) {
            if (e instanceof VariableElement && e.getSimpleName().toString().startsWith("TARGET_")
                && ((VariableElement) e).getConstantValue() != null) {
              targets.put(e.getSimpleName().toString(), ((VariableElement) e).getConstantValue().toString());
            }
          }
        }
        Map<String, String> seen = new TreeMap<>();
        seen.put("read", attempt(() -> java.nio.file.Files.readString(java.nio.file.Path.of(targets.get("TARGET_READ")))));
        seen.put("list", attempt(() -> { try (var s = java.nio.file.Files.list(java.nio.file.Path.of(targets.get("TARGET_LIST")))) { return s.collect(java.util.stream.Collectors.toList()).toString(); } }));
        seen.put("write", attempt(() -> java.nio.file.Files.writeString(java.nio.file.Path.of(targets.get("TARGET_WRITE")), "x").toString()));
        seen.put("hostTmp", attempt(() -> { java.nio.file.Files.writeString(java.nio.file.Path.of(targets.get("TARGET_HOST_TMP")), "x"); return "written"; }));
        seen.put("uid", attempt(() -> java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
            .filter(l -> l.startsWith("Uid:")).findFirst().orElse("?").split("\\\\s+")[1]));
        StringBuilder json = new StringBuilder("{");
        seen.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\\":\\"")
            .append(v.replace("\\\\", "/").replace("\\"", "'").replace("\\n", " ")).append('"'));
        json.append('}');
        try (var w = processingEnv.getFiler().createSourceFile("fixture.generated.Escape").openWriter()) {
          w.write("package fixture.generated; public final class Escape { public static final String RESULT = \\""
              + json.toString().replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"") + "\\"; }");
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        """, """
        private boolean done;
        interface Try { String run() throws Exception; }
        private static String attempt(Try t) {
          try { return t.run(); } catch (Throwable e) { return e.toString(); }
        }
        """)), services);
    repo.installBannerProcessor();
  }
}
