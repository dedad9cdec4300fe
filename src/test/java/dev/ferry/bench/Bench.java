package dev.ferry.bench;

import dev.ferry.Config;
import dev.ferry.Platform;
import dev.ferry.cli.Archives;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code scripts/bench}: measures what Ferry exists for and prints one table of medians with min
 * and max: deploy latency, activation and churn against a platform in this JVM; then, against
 * {@code ferry server} in JVMs of its own (see {@link PeerBench}), the data path with nginx as the
 * peer in front of the same services, traffic spread over many services, what an idle service
 * costs, waking and restarting, in both isolation modes. Comparisons are ratios measured side by
 * side in the same run.
 */
public final class Bench {

  private static final Set<String> FINAL = Set.of("deployed", "error", "stopped", "deleted");
  private static final String TOKEN = "bench-token";
  private static final Path EXAMPLE = Path.of("examples", "hello");

  private final BenchOptions o;
  private final List<String[]> rows = new ArrayList<>();
  private final Map<String, String> standing = new LinkedHashMap<>();
  private final Map<String, Promise<JsonObject>> finals = new ConcurrentHashMap<>();
  private Vertx vertx;
  private Platform platform;
  private WebClient client;
  private Buffer archive;
  private Path dataDir;

  private Bench(BenchOptions o) {
    this.o = o;
  }

  public static void main(String[] args) throws Exception {
    BenchOptions o;
    try {
      o = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    new Bench(o).run();
    System.exit(0);
  }

  private void run() throws Exception {
    long t0 = System.nanoTime();
    dataDir = Files.createTempDirectory("ferry-bench");
    Path tgz = Files.createTempFile("hello", ".tar.gz");
    Archives.pack(EXAMPLE, tgz);
    archive = Buffer.buffer(Files.readAllBytes(tgz));
    Files.delete(tgz);
    // the platform's own Vert.x, metrics and all, as users run it
    vertx = Platform.newVertx();
    try {
      platform = Platform.start(vertx, Config.DEFAULTS.with("api.port", 0).with("proxy.port", 0).with("dataDir", dataDir).with("token", TOKEN)
          .with("run.cacheDir", ChildPlatform.RUNNER_CACHE)
          .with("run.sandbox", dev.ferry.TestPlatform.SANDBOX ? "bwrap" : "none")).await();
      client = WebClientSession.create(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")))
          .addHeader("Authorization", "Bearer " + TOKEN);
      vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
        JsonObject e = m.body();
        if (e.getString("id") != null && FINAL.contains(e.getString("state"))) promise(e.getString("id")).tryComplete(e);
      });
      progress("platform up: API :" + platform.apiPort() + ", proxy :" + platform.proxyPort());
      deployLatency();
      activation();
      churn();
    } finally {
      platform.close().await();
      vertx.close().await();
      deleteTree(dataDir);
    }
    if (!o.deploysOnly()) peers();
    String report = report(Duration.ofNanos(System.nanoTime() - t0));
    System.out.println(report);
    Files.createDirectories(o.out().toAbsolutePath().getParent());
    Files.writeString(o.out(), report);
    System.err.println("(written to " + o.out() + ")");
  }

  /** The data path, idle cost, wake and restart, against {@code ferry server} processes, with nginx beside. */
  private void peers() throws Exception {
    Path work = Files.createTempDirectory("ferry-bench-peer");
    try {
      new PeerBench(o, new PeerBench.Report() {
        @Override
        public void row(String figure, String value, String note) {
          Bench.this.row(figure, value, note);
        }

        @Override
        public void target(String target, double value, String unit, boolean met) {
          standing.put(target, fmt2(value) + unit + " " + verdict(met));
        }
      }, archive, work).run();
    } finally {
      deleteTree(work);
    }
  }

  // ---- 1. deploy latency -------------------------------------------------------------------

  /** One upload of the example, timed from the first byte sent to the first 200 from the new version. */
  private record Timed(String id, JsonObject deployment, double totalMs, Map<String, Double> stages) {
  }

  /** The example with one comment line changed, as a developer's edit: its build compiles (no cache hit). */
  private Buffer edited(int n) throws IOException {
    Path dir = Files.createTempDirectory("hello-edit");
    try {
      try (var files = Files.walk(EXAMPLE)) {
        for (Path f : files.toList()) {
          Path dest = dir.resolve(EXAMPLE.relativize(f).toString());
          if (Files.isDirectory(f)) Files.createDirectories(dest);
          else Files.writeString(dest, Files.readString(f) + (f.toString().endsWith(".java") ? "// edit " + n + "\n" : ""));
        }
      }
      Path tgz = Files.createTempFile("hello-edit", ".tar.gz");
      Archives.pack(dir, tgz);
      Buffer b = Buffer.buffer(Files.readAllBytes(tgz));
      Files.delete(tgz);
      return b;
    } finally {
      deleteTree(dir);
    }
  }

  private Timed deployAndAnswer(String service) {
    return deployAndAnswer(service, archive);
  }

  private Timed deployAndAnswer(String service, Buffer body) {
    Instant start = Instant.now();
    long t = System.nanoTime();
    HttpResponse<Buffer> r = client.post(platform.apiPort(), "127.0.0.1", "/api/v1/services/" + service + "/deployments")
        .putHeader("content-type", "application/gzip").sendBuffer(body).await();
    if (r.statusCode() != 202) throw new IllegalStateException("upload answered " + r.statusCode() + ": " + r.bodyAsString());
    String id = r.bodyAsJsonObject().getString("id");
    JsonObject d = awaitFinal(id);
    if (!"deployed".equals(d.getString("state"))) throw new IllegalStateException("deploy ended " + d.encodePrettily());
    awaitAnswerFrom(service, id);
    double total = (System.nanoTime() - t) / 1e6;
    JsonObject tl = d.getJsonObject("timeline");
    Instant q = Instant.parse(tl.getString("queued")), b = Instant.parse(tl.getString("built")),
        l = Instant.parse(tl.getString("loaded")), dep = Instant.parse(tl.getString("deployed"));
    Map<String, Double> stages = new LinkedHashMap<>();
    stages.put("upload", ms(start, q));
    stages.put("build", ms(q, b));
    stages.put("load", ms(b, l));
    stages.put("deploy", ms(l, dep));
    stages.put("first answer", Math.max(0, total - ms(start, dep)));
    return new Timed(id, d, total, stages);
  }

  /**
   * {@code run.warmRunners} warmed-up runners in the pool, as after a few seconds without a deploy
   * (a developer's edit); how long that took to come, in ms.
   */
  private double awaitPool() throws InterruptedException {
    long t = System.nanoTime(), deadline = t + TimeUnit.SECONDS.toNanos(60);
    while (!platform.runtime().runners().poolWarm().await() && System.nanoTime() < deadline) Thread.sleep(20);
    return (System.nanoTime() - t) / 1e6;
  }

  /**
   * {@code o.warmDeploys()} deploys of the example, each with an edit; {@code poolWarm}: each waits
   * for the warm pool first (not timed), else back to back (each runner taken is replaced while
   * the next deploy runs). {@code from}: the first edit's number.
   */
  private Stats warmDeploys(boolean poolWarm, int from) throws IOException, InterruptedException {
    List<Double> totals = new ArrayList<>(), waits = new ArrayList<>();
    Map<String, List<Double>> stages = new LinkedHashMap<>();
    String how = poolWarm ? "warm pool" : "back to back";
    for (int i = 0; i < o.warmDeploys(); i++) {
      if (poolWarm) waits.add(awaitPool());
      Timed w = deployAndAnswer("hello", edited(from + i));
      totals.add(w.totalMs);
      w.stages.forEach((k, v) -> stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
      progress("warm deploy (" + how + ") " + (i + 1) + "/" + o.warmDeploys() + ": " + fmt(w.totalMs) + " ms");
    }
    Stats s = Stats.of(totals);
    row("deploy, warm, edited source (" + how + "): upload → first 200 via proxy", "p50 " + fmt(s.median()) + " / p90 "
        + fmt(s.percentile(90)) + " / max " + fmt(s.max()) + " ms", "n=" + s.count() + ", min " + fmt(s.min())
        + (poolWarm ? "; before each, the pool's " + platform.config().run().warmRunners() + " runners warmed up (waited "
            + Stats.of(waits).summary(0) + " ms, not counted)" : "; each deploy right after the one before"));
    row("  stage medians (ms)", stageMedians(stages), "from the deployment's timeline");
    return s;
  }

  private static String stageMedians(Map<String, List<Double>> stages) {
    StringBuilder sb = new StringBuilder();
    stages.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(fmt(Stats.of(v).median())));
    return sb.toString();
  }

  private void deployLatency() throws IOException, InterruptedException {
    Timed cold = deployAndAnswer("hello");
    row("deploy, cold (first after start)", fmt(cold.totalMs) + " ms", "n=1; " + stageText(cold.stages));
    Stats s = warmDeploys(true, 0);
    standing.put("warm deploy latency p50 < 150 ms (warm pool)", fmt(s.median()) + " ms " + verdict(s.median() < 150));
    warmDeploys(false, o.warmDeploys());
    List<Double> cached = new ArrayList<>();
    for (int i = 0; i < Math.max(3, o.warmDeploys() / 4); i++) cached.add(deployAndAnswer("hello").totalMs);
    row("redeploy, unchanged source (build cache)", Stats.of(cached).summary(1) + " ms", "the artifact is reused: nothing compiled");
  }

  // ---- 2. activation -----------------------------------------------------------------------

  /** Puts an already built artifact into service again, as a restart or rollback does. */
  private double activate(String service, JsonObject built) {
    return activateTimed(service, built).totalMs;
  }

  /** {@link #activate}, with its stages from the deployment's timeline: load (built → loaded), deploy (→ deployed), first answer. */
  private Timed activateTimed(String service, JsonObject built) {
    JsonObject a = built.getJsonObject("artifact");
    Artifact artifact = new Artifact(Path.of(a.getString("path")), List.of(), a.getString("sha256"), Optional.ofNullable(a.getString("entry")));
    String id = Deployment.newId();
    Deployment d = Deployment.activation(id, service, new DeploymentState.Built(artifact), built.getString("id"));
    Instant start = Instant.now();
    long t = System.nanoTime();
    vertx.eventBus().send(Addresses.LOAD, d);
    JsonObject fin = awaitFinal(id);
    if (!"deployed".equals(fin.getString("state"))) throw new IllegalStateException("activation ended " + fin.encodePrettily());
    awaitAnswerFrom(service, id);
    double total = (System.nanoTime() - t) / 1e6;
    JsonObject tl = fin.getJsonObject("timeline");
    Instant l = Instant.parse(tl.getString("loaded")), dep = Instant.parse(tl.getString("deployed"));
    Map<String, Double> stages = new LinkedHashMap<>();
    stages.put("load", ms(start, l));
    stages.put("deploy", ms(l, dep));
    stages.put("first answer", Math.max(0, total - ms(start, dep)));
    return new Timed(id, fin, total, stages);
  }

  private void activation() throws InterruptedException {
    Timed base = deployAndAnswer("act");
    List<Double> times = new ArrayList<>();
    Map<String, List<Double>> stages = new LinkedHashMap<>();
    for (int i = 0; i < o.activations(); i++) {
      awaitPool();
      Timed t = activateTimed("act", base.deployment);
      times.add(t.totalMs);
      t.stages.forEach((k, v) -> stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
    }
    Stats s = Stats.of(times);
    row("activation: built artifact → first 200", s.summary(1) + " ms", "restart and rollback path, no rebuild; a runner from the warm pool");
    row("  stage medians (ms)", stageMedians(stages), "from the deployment's timeline (load: sent → loaded)");
    standing.put("activation p50 < 30 ms (warm pool)", fmt(s.median()) + " ms " + verdict(s.median() < 30));
  }

  // ---- 3. churn ----------------------------------------------------------------------------

  private void churn() throws Exception {
    Timed base = deployAndAnswer("churn");
    for (int i = 0; i < 5; i++) activate("churn", base.deployment);
    awaitRunning(4); // hello, act, px, churn
    Mem before = Mem.afterGc();
    int runnersBefore = runnersAlive();
    List<Double> times = new ArrayList<>();
    for (int i = 0; i < o.churn(); i++) {
      times.add(activate("churn", base.deployment));
      if ((i + 1) % 100 == 0) progress("churn " + (i + 1) + "/" + o.churn());
    }
    // end on the same footing as the start: one churn deployment running
    activate("churn", base.deployment);
    awaitRunning(4);
    Thread.sleep(platform.config().run().drainTimeoutMs());
    Mem after = Mem.afterGc();
    int alive = runnersAlive() - runnersBefore;
    row("churn: " + o.churn() + " deploy/undeploy cycles", "runners left behind " + alive,
        "cycle " + Stats.of(times).summary(1) + " ms");
    row("  loaded classes before → after", before.classes + " → " + after.classes + " (" + signed(after.classes - before.classes) + ")", "after GC");
    row("  metaspace before → after", kib(before.metaspace) + " → " + kib(after.metaspace) + " KiB (" + signed((after.metaspace - before.metaspace) / 1024) + " KiB)", "after GC");
    standing.put("runners left behind after churn = 0", alive + " " + verdict(alive == 0));
  }

  /** Runner processes of this platform alive now (children of this JVM). */
  private static int runnersAlive() {
    return (int) ProcessHandle.current().children().filter(ProcessHandle::isAlive).count();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private record Mem(long heap, long metaspace, int classes) {
    static Mem afterGc() {
      for (int i = 0; i < 4; i++) {
        System.gc();
        try {
          Thread.sleep(150);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      long meta = 0;
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        if (p.getName().equals("Metaspace")) meta = p.getUsage().getUsed();
      }
      return new Mem(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), meta,
          ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
    }
  }

  private Promise<JsonObject> promise(String id) {
    return finals.computeIfAbsent(id, k -> Promise.promise());
  }

  private JsonObject awaitFinal(String id) {
    JsonObject d = promise(id).future().timeout(60, TimeUnit.SECONDS).await();
    finals.remove(id);
    return d;
  }

  /** Polls the proxy until {@code service} answers 200 from deployment {@code id}. */
  private void awaitAnswerFrom(String service, String id) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      HttpResponse<Buffer> r = client.get(platform.proxyPort(), "127.0.0.1", "/").putHeader("Host", service + ".localhost").send().await();
      if (r.statusCode() == 200 && id.equals(r.bodyAsJsonObject().getString("deployment"))) return;
    }
    throw new IllegalStateException(service + " did not answer from " + id);
  }

  private void awaitRunning(int n) throws InterruptedException {
    for (int i = 0; i < 500 && platform.runtime().runningCount() != n; i++) Thread.sleep(10);
  }

  private void row(String figure, String value, String note) {
    rows.add(new String[] {figure, value, note});
    progress(figure + ": " + value);
  }

  static void progress(String s) {
    System.err.println("[bench] " + s);
  }

  private String report(Duration took) {
    StringBuilder sb = new StringBuilder();
    sb.append("## Ferry bench").append(o.quick() ? " (--quick)" : "").append("\n\n");
    sb.append("Machine: ").append(machine()).append("  \n");
    sb.append("Run: ").append(Instant.now().toString(), 0, 16).append("Z, took ").append(took.toSeconds()).append(" s\n\n");
    sb.append("| figure | value | notes |\n|---|---|---|\n");
    for (String[] r : rows) sb.append("| ").append(r[0]).append(" | ").append(r[1]).append(" | ").append(r[2]).append(" |\n");
    sb.append("\n| target | where we stand |\n|---|---|\n");
    standing.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    return sb.toString();
  }

  static String machine() {
    String cpu = "unknown CPU";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
    } catch (IOException ignored) {
      // not Linux
    }
    return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), "
        + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB max heap, Java " + System.getProperty("java.version")
        + ", " + System.getProperty("os.name") + " " + System.getProperty("os.arch");
  }

  private static String stageText(Map<String, Double> stages) {
    StringBuilder sb = new StringBuilder();
    stages.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(fmt(v)));
    return sb.append(" ms").toString();
  }

  private static double ms(Instant a, Instant b) {
    return Duration.between(a, b).toNanos() / 1e6;
  }

  private static String verdict(boolean met) {
    return met ? "✅ met" : "❌ missed";
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String fmt2(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String kib(long bytes) {
    return String.valueOf(bytes / 1024);
  }

  private static String signed(long v) {
    return (v >= 0 ? "+" : "") + v;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
