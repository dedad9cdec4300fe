package dev.ferry.bench;

import dev.ferry.Config;
import dev.ferry.Platform;
import dev.ferry.cli.Archives;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code scripts/bench}: starts a platform on loopback in this JVM and measures what Ferry exists
 * for (deploy latency, activation, proxy overhead, density, churn), printing one table of medians
 * with min and max. Comparisons are ratios measured side by side in the same run.
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
      platform = Platform.start(vertx, new Config().setApiPort(0).setProxyPort(0).setDataDir(dataDir).setToken(TOKEN).setProxyInstances(o.proxyInstances()).setThreading(o.threading())
          .setSandbox(dev.ferry.TestPlatform.SANDBOX ? "bwrap" : "none")).await();
      client = WebClientSession.create(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")))
          .addHeader("Authorization", "Bearer " + TOKEN);
      vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
        JsonObject e = m.body();
        if (e.getString("id") != null && FINAL.contains(e.getString("state"))) promise(e.getString("id")).tryComplete(e);
      });
      progress("platform up: API :" + platform.apiPort() + ", proxy :" + platform.proxyPort());
      deployLatency();
      activation();
      proxyOverhead();
      churn();
      density();
    } finally {
      platform.close().await();
      vertx.close().await();
      deleteTree(dataDir);
    }
    String report = report(Duration.ofNanos(System.nanoTime() - t0));
    System.out.println(report);
    Files.createDirectories(o.out().toAbsolutePath().getParent());
    Files.writeString(o.out(), report);
    System.err.println("(written to " + o.out() + ")");
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

  private void deployLatency() throws IOException {
    Timed cold = deployAndAnswer("hello");
    row("deploy, cold (first after start)", fmt(cold.totalMs) + " ms", "n=1; " + stageText(cold.stages));
    List<Double> totals = new ArrayList<>();
    Map<String, List<Double>> stages = new LinkedHashMap<>();
    for (int i = 0; i < o.warmDeploys(); i++) {
      Timed w = deployAndAnswer("hello", edited(i));
      totals.add(w.totalMs);
      w.stages.forEach((k, v) -> stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
      progress("warm deploy " + (i + 1) + "/" + o.warmDeploys() + ": " + fmt(w.totalMs) + " ms");
    }
    Stats s = Stats.of(totals);
    row("deploy, warm, edited source: upload → first 200 via proxy", "p50 " + fmt(s.median()) + " / p90 " + fmt(s.percentile(90))
        + " / max " + fmt(s.max()) + " ms", "n=" + s.count() + ", min " + fmt(s.min()));
    StringBuilder sb = new StringBuilder();
    stages.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(fmt(Stats.of(v).median())));
    row("  warm stage medians (ms)", sb.toString(), "from the deployment's timeline");
    standing.put("warm deploy latency p50 < 300 ms", fmt(s.median()) + " ms " + verdict(s.median() < 300));
    List<Double> cached = new ArrayList<>();
    for (int i = 0; i < Math.max(3, o.warmDeploys() / 4); i++) cached.add(deployAndAnswer("hello").totalMs);
    row("redeploy, unchanged source (build cache)", Stats.of(cached).summary(1) + " ms", "the artifact is reused: nothing compiled");
  }

  // ---- 2. activation -----------------------------------------------------------------------

  /** Puts an already built artifact into service again, as a restart or rollback does. */
  private double activate(String service, JsonObject built) {
    JsonObject a = built.getJsonObject("artifact");
    Artifact artifact = new Artifact(Path.of(a.getString("path")), List.of(), a.getString("sha256"), Optional.ofNullable(a.getString("entry")));
    Instant now = Instant.now();
    String id = Deployment.newId();
    Deployment d = new Deployment(id, service, now, now, new DeploymentState.Built(artifact), artifact, Map.of("built", now));
    long t = System.nanoTime();
    vertx.eventBus().send(Addresses.LOAD, d);
    JsonObject fin = awaitFinal(id);
    if (!"deployed".equals(fin.getString("state"))) throw new IllegalStateException("activation ended " + fin.encodePrettily());
    awaitAnswerFrom(service, id);
    return (System.nanoTime() - t) / 1e6;
  }

  private void activation() {
    Timed base = deployAndAnswer("act");
    List<Double> times = new ArrayList<>();
    for (int i = 0; i < o.activations(); i++) times.add(activate("act", base.deployment));
    Stats s = Stats.of(times);
    row("activation: built artifact → first 200", s.summary(1) + " ms", "restart and rollback path, no rebuild");
    standing.put("activation p50 < 20 ms", fmt(s.median()) + " ms " + verdict(s.median() < 20));
  }

  // ---- 3. proxy overhead -------------------------------------------------------------------

  private void proxyOverhead() throws Exception {
    Timed px = deployAndAnswer("px");
    int direct = px.deployment.getInteger("port");
    boolean wrk = hasWrk();
    List<Double> directRps = new ArrayList<>(), proxiedRps = new ArrayList<>(), ratios = new ArrayList<>();
    List<Double> d50 = new ArrayList<>(), d99 = new ArrayList<>(), p50 = new ArrayList<>(), p99 = new ArrayList<>();
    long errors = 0;
    for (int i = 0; i < o.proxyRuns(); i++) {
      LoadResult d = load(wrk, direct, null);
      LoadResult p = load(wrk, platform.proxyPort(), "px.localhost");
      directRps.add(d.requestsPerSecond());
      proxiedRps.add(p.requestsPerSecond());
      ratios.add(p.requestsPerSecond() / d.requestsPerSecond());
      d50.add(d.p50Ms()); d99.add(d.p99Ms()); p50.add(p.p50Ms()); p99.add(p.p99Ms());
      errors += d.errors() + p.errors();
      progress("proxy run " + (i + 1) + ": direct " + fmt(d.requestsPerSecond()) + " req/s, proxied " + fmt(p.requestsPerSecond()) + " req/s");
    }
    String gen = (wrk ? "wrk -t1" : "in-JVM Vert.x load loop") + " -c" + o.proxyConnections() + ", " + o.proxySeconds() + " s per run, "
        + platform.config().effectiveProxyInstances() + " proxy event loops, run.threading " + o.threading();
    row("direct to the service", Stats.of(directRps).summary(0) + " req/s", "p50 " + fmt2(Stats.of(d50).median()) + " ms, p99 " + fmt2(Stats.of(d99).median()) + " ms; " + gen);
    row("through the proxy", Stats.of(proxiedRps).summary(0) + " req/s", "p50 " + fmt2(Stats.of(p50).median()) + " ms, p99 " + fmt2(Stats.of(p99).median()) + " ms; errors " + errors);
    Stats r = Stats.of(ratios);
    row("proxied / direct throughput", r.summary(2), "ratio per side-by-side pair");
    standing.put("proxied / direct throughput ≥ 0.6", fmt2(r.median()) + " " + verdict(r.median() >= 0.6));
  }

  private LoadResult load(boolean wrk, int port, String host) throws Exception {
    return wrk ? wrk(port, host) : loop(port, host);
  }

  private LoadResult wrk(int port, String host) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("wrk", "-t1", "-c" + o.proxyConnections(), "-d" + o.proxySeconds() + "s", "--latency"));
    if (host != null) cmd.addAll(List.of("-H", "Host: " + host));
    cmd.add("http://127.0.0.1:" + port + "/");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(o.proxySeconds() + 30L, TimeUnit.SECONDS)) p.destroyForcibly();
    return LoadResult.parseWrk(out);
  }

  /** A closed-loop load from this JVM, when wrk is missing: {@code connections} requests always in flight. */
  private LoadResult loop(int port, String host) throws Exception {
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(o.proxyConnections()));
    List<Long> latencies = new CopyOnWriteArrayList<>();
    AtomicLong errors = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.proxySeconds());
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI("/");
    if (host != null) ro.putHeader("Host", host);
    List<Future<Void>> workers = new ArrayList<>();
    for (int c = 0; c < o.proxyConnections(); c++) {
      Promise<Void> done = Promise.promise();
      workers.add(done.future());
      vertx.runOnContext(v -> next(http, ro, end, latencies, errors, done));
    }
    Future.all(workers).await();
    http.close().await();
    Stats s = Stats.of(latencies.stream().map(n -> n / 1e6).toList());
    return new LoadResult(latencies.size() / (double) o.proxySeconds(), s.percentile(50), s.percentile(99), errors.get());
  }

  private void next(HttpClient http, RequestOptions ro, long end, List<Long> lat, AtomicLong errors, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      done.complete();
      return;
    }
    long t = System.nanoTime();
    http.request(ro).compose(r -> r.send().compose(resp -> resp.body().map(resp.statusCode()))).onComplete(ar -> {
      if (ar.succeeded() && ar.result() == 200) lat.add(System.nanoTime() - t);
      else errors.incrementAndGet();
      next(http, ro, end, lat, errors, done);
    });
  }

  // ---- 4. churn ----------------------------------------------------------------------------

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
    Thread.sleep(platform.config().drainTimeoutMs());
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

  // ---- 5. density --------------------------------------------------------------------------

  private void density() {
    Mem base = Mem.afterGc();
    int running = platform.runtime().runningCount();
    List<Double> times = new ArrayList<>();
    int deployed = 0;
    for (int n : o.density()) {
      for (; deployed < n; deployed++) {
        times.add(deployAndAnswer("d" + deployed).totalMs);
        if ((deployed + 1) % 50 == 0) progress("density: " + (deployed + 1) + "/" + n + " services");
      }
      int answering = 0;
      for (int i = 0; i < n; i++) {
        if (client.get(platform.proxyPort(), "127.0.0.1", "/").putHeader("Host", "d" + i + ".localhost").send().await().statusCode() == 200) answering++;
      }
      Mem m = Mem.afterGc();
      double heapPer = (m.heap - base.heap) / 1024.0 / n, metaPer = (m.metaspace - base.metaspace) / 1024.0 / n;
      row("density: " + n + " services", fmt(heapPer) + " KiB heap + " + fmt(metaPer) + " KiB metaspace per service",
          answering + "/" + n + " answer via proxy; deploy " + Stats.of(times).summary(0) + " ms; running " + platform.runtime().runningCount());
      standing.put("heap + metaspace per idle service < 100 KiB (N=" + n + ")", fmt(heapPer + metaPer) + " KiB " + verdict(heapPer + metaPer < 100));
    }
    if (platform.runtime().runningCount() != running + deployed) progress("warning: running count " + platform.runtime().runningCount());
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

  private static boolean hasWrk() {
    try {
      return new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private void row(String figure, String value, String note) {
    rows.add(new String[] {figure, value, note});
    progress(figure + ": " + value);
  }

  private static void progress(String s) {
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
