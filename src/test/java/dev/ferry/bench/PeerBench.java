package dev.ferry.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The data path, what idle services cost, waking and restarting, measured against {@code ferry
 * server} in JVMs of their own ({@link ChildPlatform}), with nginx in front of the very same
 * services as the peer: one service and traffic spread over many (each request to the next
 * service), in both isolation modes; Ferry and nginx alternate within every round and each figure
 * is the median of the rounds, ratios taken per round.
 */
final class PeerBench {

  /** Where rows of the report go. */
  interface Report {
    void row(String figure, String value, String note);

    void target(String target, double value, String unit, boolean met);
  }

  private final BenchOptions o;
  private final Report report;
  private final Buffer archive;
  private final Path work;
  private final Vertx vertx = Vertx.vertx();
  private final io.vertx.core.net.NetClient net = vertx.createNetClient();
  private final WebClient http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(512));
  private Wrk wrk;

  PeerBench(BenchOptions o, Report report, Buffer archive, Path work) {
    this.o = o;
    this.report = report;
    this.archive = archive;
    this.work = work;
  }

  void run() throws Exception {
    try {
      if (!Wrk.available() || !Nginx.available()) {
        report.row("data path, idle cost, wake, restart", "not measured", "needs wrk and nginx (scripts/bench installs both from Debian's packages as root)");
        return;
      }
      wrk = new Wrk(work, o.proxyConnections(), o.proxySeconds());
      Bench.progress("making the platform's class-data-sharing archive (as scripts/ferry does)");
      ChildPlatform.makeArchive(java.nio.file.Files.createDirectories(work.resolve("train")), http);
      mode("process", o.processServices(), List.of(o.processServices()));
      mode("shared", o.spread().get(o.spread().size() - 1), o.spread());
      wake("process");
      wake("shared");
    } finally {
      http.close();
      net.close();
      vertx.close().await();
    }
  }

  // ---- one isolation mode: its data path, what its idle services cost, its restarts ----------------

  private void mode(String isolation, int n, List<Integer> spreads) throws Exception {
    Path dir = java.nio.file.Files.createDirectories(work.resolve(isolation));
    try (ChildPlatform p = ChildPlatform.start(dir, new JsonObject().put("isolation", isolation).put("idleTimeoutMs", 0), http)) {
      Bench.progress(isolation + ": platform up (pid " + p.pid() + "), deploying px and " + n + " services");
      ChildPlatform.sleep(3_000);
      Footprint warm = Footprint.of(p.runners());
      Map<String, Integer> ports = new LinkedHashMap<>();
      ports.put("px", p.deploy("px", archive).getInteger("port"));
      Footprint afterOne = Footprint.of(p.runners());
      List<String> services = new ArrayList<>();
      for (int i = 0; i < n; i++) services.add("s" + i);
      deployAll(p, services, ports);
      dataPath(p, isolation, ports, services, spreads);
      idleCost(p, isolation, n, warm, afterOne);
      restarts(p, isolation, services);
    }
  }

  /** Deploys {@code services}, four uploads at a time (their runners start side by side). */
  private void deployAll(ChildPlatform p, List<String> services, Map<String, Integer> ports) throws Exception {
    long t0 = System.nanoTime();
    java.util.concurrent.ExecutorService uploads = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<JsonObject>> all = new ArrayList<>();
      for (String s : services) all.add(uploads.submit(() -> p.deploy(s, archive)));
      for (int i = 0; i < all.size(); i++) {
        ports.put(services.get(i), all.get(i).get().getInteger("port"));
        if ((i + 1) % 100 == 0) Bench.progress("deployed " + (i + 1) + "/" + services.size());
      }
    } finally {
      uploads.shutdownNow();
    }
    Bench.progress("deployed " + services.size() + " services in " + (System.nanoTime() - t0) / 1_000_000_000 + " s");
  }

  /** Per-request cost, one service and spread, Ferry's proxy against nginx; direct to the service as the floor. */
  private void dataPath(ChildPlatform p, String isolation, Map<String, Integer> ports, List<String> services, List<Integer> spreads)
      throws Exception {
    try (Nginx nginx = Nginx.start(work.resolve("nginx-" + isolation), ports)) {
      List<String> one = List.of("px");
      // every service has run its handler many times, through both proxies, before anything counts
      Map<String, String> warmUps = new LinkedHashMap<>();
      for (Map.Entry<String, List<String>> c : cases(one, services, spreads).entrySet()) {
        warmUps.put(c.getKey(), warmUp(p, nginx, isolation, isolation + ", " + c.getKey(), c.getValue()));
      }
      Map<String, List<Sample>> ferry = new LinkedHashMap<>(), peer = new LinkedHashMap<>();
      List<Sample> direct = new ArrayList<>();
      for (int r = 0; r < o.proxyRuns(); r++) {
        if (isolation.equals("process")) direct.add(sample(ports.get("px"), one, List.of(), p));
        for (Map.Entry<String, List<String>> c : cases(one, services, spreads).entrySet()) {
          // who goes first alternates, so a drift of the machine falls on both
          boolean ferryFirst = r % 2 == 1;
          for (int k = 0; k < 2; k++) {
            if ((k == 0) == ferryFirst) ferry.computeIfAbsent(c.getKey(), x -> new ArrayList<>()).add(sample(p.proxyPort, c.getValue(), List.of(p.pid()), p));
            else peer.computeIfAbsent(c.getKey(), x -> new ArrayList<>()).add(sample(nginx.port, c.getValue(), nginx.workers(), p));
          }
        }
        Bench.progress(isolation + ": round " + (r + 1) + "/" + o.proxyRuns() + " " + summary(ferry, peer));
      }
      String how = wrk.describe() + "; " + o.proxyRuns() + " rounds, Ferry and nginx alternating; " + nginx.describe();
      if (!direct.isEmpty()) {
        report.row("direct to the service (" + isolation + " runner)", Stats.of(direct.stream().map(Sample::rps).toList()).summary(0) + " req/s",
            latency(direct) + "; backend " + fmt(Stats.of(direct.stream().map(Sample::backendUs).toList()).median()) + " µs CPU/req; " + how);
      }
      for (String c : ferry.keySet()) {
        List<Sample> f = ferry.get(c), n = peer.get(c);
        String label = c + " (" + isolation + ")";
        report.row("through nginx, " + label, Stats.of(rps(n)).summary(0) + " req/s", latency(n) + "; nginx " + cpu(n) + ", backend " + backendCpu(n));
        report.row("through Ferry, " + label, Stats.of(rps(f)).summary(0) + " req/s", latency(f) + "; Ferry's proxy " + cpu(f) + ", backend " + backendCpu(f)
            + "; errors " + (f.stream().mapToLong(Sample::errors).sum() + n.stream().mapToLong(Sample::errors).sum()) + "; " + warmUps.get(c));
        List<Double> ratio = new ArrayList<>(), cpuRatio = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) {
          ratio.add(f.get(i).rps() / n.get(i).rps());
          cpuRatio.add(f.get(i).proxyUs() / n.get(i).proxyUs());
        }
        Stats tr = Stats.of(ratio), cr = Stats.of(cpuRatio);
        report.row("  Ferry / nginx, " + label, "throughput " + tr.summary(2) + ", proxy CPU per request " + cr.summary(2), "ratios per round");
        if (c.equals("one service") && isolation.equals("process")) {
          report.target("Ferry / nginx throughput ≥ 1.0 (one service)", tr.median(), "", tr.median() >= 1.0);
          report.target("proxy CPU per request Ferry / nginx ≤ 1.0", cr.median(), "", cr.median() <= 1.0);
          if (!direct.isEmpty()) {
            List<Double> fd = new ArrayList<>(), nd = new ArrayList<>();
            for (int i = 0; i < f.size(); i++) {
              fd.add(f.get(i).rps() / direct.get(i).rps());
              nd.add(n.get(i).rps() / direct.get(i).rps());
            }
            report.row("  proxied / direct, one service", "Ferry " + Stats.of(fd).summary(2) + ", nginx " + Stats.of(nd).summary(2), "ratios per round");
          }
        }
      }
      for (String c : ferry.keySet()) {
        if (c.equals("one service")) continue;
        List<Double> fs = new ArrayList<>(), ns = new ArrayList<>();
        for (int i = 0; i < ferry.get(c).size(); i++) {
          fs.add(ferry.get(c).get(i).rps() / ferry.get("one service").get(i).rps());
          ns.add(peer.get(c).get(i).rps() / peer.get("one service").get(i).rps());
        }
        Stats s = Stats.of(fs);
        report.row("  " + c + " / one service (" + isolation + ")", "Ferry " + s.summary(2) + ", nginx " + Stats.of(ns).summary(2), "throughput, ratios per round");
        report.target(c + " ≥ 0.8 of one service (" + isolation + ")", s.median(), "", s.median() >= 0.8);
      }
    }
  }

  /** How long a case is warmed up at most. */
  private static final long WARM_UP_MAX_MS = 8 * 60_000;

  /**
   * Brings a case to the steady state of services that have been serving for a while. In
   * {@code process} isolation, where each service has a JVM of its own, each service is first
   * served alone for a second through Ferry's proxy: spread traffic gives each runner a hundredth
   * of the requests, and its JVM's compilers would take many minutes to reach its request path's
   * final code (its per-request CPU falls several-fold as they do). Then load through both proxies,
   * in rounds, until a round's throughput through Ferry no longer rises (within 5% of the round
   * before) and the JIT compilers of the JVMs serving it (the platform's and every runner's) used
   * under 5% of those JVMs' CPU, or for {@link #WARM_UP_MAX_MS}. Says how it ended.
   */
  private String warmUp(ChildPlatform p, Nginx nginx, String isolation, String label, List<String> hosts) throws Exception {
    long t0 = System.nanoTime();
    boolean aloneFirst = isolation.equals("process") && hosts.size() > 1;
    if (aloneFirst) {
      for (int i = 0; i < hosts.size(); i++) {
        wrk.run(p.proxyPort, List.of(hosts.get(i)), 1);
        if ((i + 1) % 20 == 0) Bench.progress(label + ": served " + (i + 1) + "/" + hosts.size() + " services alone");
      }
    }
    int rounds = 0;
    double share, before, rps = 0;
    boolean rising;
    do {
      List<Long> jvms = new ArrayList<>(p.runnerTree());
      jvms.add(p.pid());
      double j0 = Procs.jitSeconds(jvms), c0 = Procs.cpuSeconds(jvms);
      before = rps;
      rps = wrk.run(p.proxyPort, hosts).requestsPerSecond();
      wrk.run(nginx.port, hosts);
      double cpu = Procs.cpuSeconds(jvms) - c0;
      share = cpu <= 0 ? 0 : (Procs.jitSeconds(jvms) - j0) / cpu;
      rising = rps > before * 1.05;
      rounds++;
      Bench.progress(label + ": warming up, round " + rounds + ", " + Math.round(rps) + " req/s through Ferry, compilers "
          + Math.round(share * 100) + "% of the JVMs' CPU");
    } while ((share >= 0.05 || rising) && System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(WARM_UP_MAX_MS));
    return "warmed up " + rounds + " round(s) (" + (System.nanoTime() - t0) / 1_000_000_000 + " s" + (aloneFirst
        ? ", each service first served alone for 1 s" : "") + "), the JIT compilers " + Math.round(share * 100)
        + "% of the JVMs' CPU in the last" + (share >= 0.05 ? ", not yet quiet" : rising ? ", throughput still rising" : "");
  }

  /** The traffic cases: one service, then spread over each count of services. */
  private static Map<String, List<String>> cases(List<String> one, List<String> services, List<Integer> spreads) {
    Map<String, List<String>> c = new LinkedHashMap<>();
    c.put("one service", one);
    for (int n : spreads) c.put("spread over " + n + " services", services.subList(0, Math.min(n, services.size())));
    return c;
  }

  /** One wrk run, with the CPU the proxy's processes and the platform's runners used for it. */
  private record Sample(double rps, double p50, double p99, long errors, double proxyUs, double backendUs) {
  }

  private Sample sample(int port, List<String> hosts, List<Long> proxyPids, ChildPlatform p) throws Exception {
    List<Long> runners = p.runnerTree();
    double c0 = Procs.cpuSeconds(proxyPids), b0 = Procs.cpuSeconds(runners);
    LoadResult r = wrk.run(port, hosts);
    double c1 = Procs.cpuSeconds(proxyPids), b1 = Procs.cpuSeconds(runners);
    double requests = r.requestsPerSecond() * o.proxySeconds();
    return new Sample(r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.errors(), (c1 - c0) * 1e6 / requests, (b1 - b0) * 1e6 / requests);
  }

  private static List<Double> rps(List<Sample> s) {
    return s.stream().map(Sample::rps).toList();
  }

  private static String latency(List<Sample> s) {
    return "p50 " + fmt2(Stats.of(s.stream().map(Sample::p50).toList()).median()) + " ms, p99 "
        + fmt2(Stats.of(s.stream().map(Sample::p99).toList()).median()) + " ms";
  }

  private static String cpu(List<Sample> s) {
    return fmt(Stats.of(s.stream().map(Sample::proxyUs).toList()).median()) + " µs CPU/req";
  }

  private static String backendCpu(List<Sample> s) {
    return fmt(Stats.of(s.stream().map(Sample::backendUs).toList()).median()) + " µs CPU/req";
  }

  private static String summary(Map<String, List<Sample>> ferry, Map<String, List<Sample>> peer) {
    StringBuilder sb = new StringBuilder();
    ferry.forEach((c, f) -> sb.append(c).append(": Ferry ").append(fmt(f.get(f.size() - 1).rps())).append(", nginx ")
        .append(fmt(peer.get(c).get(peer.get(c).size() - 1).rps())).append(" req/s; "));
    return sb.toString();
  }

  // ---- what idle services cost ----------------------------------------------------------------------

  /** Resident (and proportional) memory and threads of a set of processes. */
  private record Footprint(long rss, long pss, long threads, int processes) {
    /** {@code runners}: one pid each (its process tree counts: in the sandbox, bubblewrap and the JVM). */
    static Footprint of(List<ProcessHandle> runners) {
      long rss = 0, pss = 0, threads = 0;
      List<Long> pids = runners.stream().map(ProcessHandle::pid).toList();
      for (long pid : Procs.tree(pids)) {
        rss += Procs.rss(pid);
        pss += Procs.pss(pid);
        threads += Procs.threads(pid);
      }
      return new Footprint(rss, pss, threads, pids.size());
    }

    Footprint minus(Footprint o) {
      return new Footprint(rss - o.rss, pss - o.pss, threads - o.threads, processes - o.processes);
    }
  }

  /** How long idle services are watched for the CPU they use. */
  private static final long IDLE_CPU_MS = 30_000;

  /**
   * Per idle service (each has served traffic): runner memory (RSS, and PSS, which counts pages
   * shared by runners, the class-data-sharing archive among them, once) with thread stacks, and threads.
   */
  private void idleCost(ChildPlatform p, String isolation, int n, Footprint warm, Footprint afterOne) {
    ChildPlatform.sleep(5_000);
    Footprint all = Footprint.of(p.runners());
    Footprint per;
    String base;
    int count;
    if (isolation.equals("process")) {
      // every service's runner, less the warm pool's idle runners
      per = all.minus(warm);
      count = n + 1;
      base = (per.processes) + " runner processes for " + count + " services";
    } else {
      // the shared runner with every service, less it with one
      per = all.minus(afterOne);
      count = n;
      base = "the shared runner with " + (n + 1) + " services against it with one";
    }
    report.row("idle service (" + isolation + "): memory", kib(per.rss / count) + " KiB RSS, " + kib(per.pss / count) + " KiB PSS per service",
        base + ", after serving traffic; thread stacks included");
    report.row("idle service (" + isolation + "): threads", fmt((double) per.threads / count) + " per service", base);
    // what idle services burn: every runner process (the warm pool's too) over a quiet half minute
    List<Long> pids = p.runnerTree();
    double cpu0 = Procs.cpuSeconds(pids), platform0 = Procs.cpuSeconds(p.pid());
    ChildPlatform.sleep(IDLE_CPU_MS);
    double perMinute = 60_000.0 / IDLE_CPU_MS * 1_000;
    double runnersMs = (Procs.cpuSeconds(pids) - cpu0) * perMinute, platformMs = (Procs.cpuSeconds(p.pid()) - platform0) * perMinute;
    report.row("idle service (" + isolation + "): CPU", fmt(runnersMs / (n + 1)) + " ms per minute per service",
        "all " + p.runners().size() + " runner processes over " + IDLE_CPU_MS / 1_000
            + " s with no request, per service (" + (n + 1) + "); the platform meanwhile " + fmt(platformMs) + " ms per minute");
    if (isolation.equals("shared")) {
      report.target("threads an idle service holds of its own (shared) = 0", (double) per.threads / count, "", per.threads <= 2);
    }
  }

  // ---- restarts ----------------------------------------------------------------------------------------

  /** SIGKILL of the platform, started again: until every service answers, and every status seen meanwhile. */
  private void restarts(ChildPlatform p, String isolation, List<String> services) throws Exception {
    List<String> all = new ArrayList<>(List.of("px"));
    all.addAll(services);
    List<Double> times = new ArrayList<>(), ups = new ArrayList<>(), cpu = new ArrayList<>();
    Map<Integer, Integer> codes = new TreeMap<>();
    for (int r = 0; r < o.restarts(); r++) {
      ChildPlatform.sleep(3_000);
      // the runners outlive the platform's JVM (not its children any more once it is gone)
      List<Long> runners = p.runnerTree();
      double runnersCpu0 = Procs.cpuSeconds(runners);
      p.kill();
      long t0 = p.spawn();
      // from the launch on: the proxy's port tried every 20 ms until it accepts (one client for all, as
      // asking 101 hosts whose answer can only be "refused" would take a core of the two), then every
      // service asked on its own every 20 ms until it answers 200 (as clients retrying would); /health beside them
      Future<Long> up = until(() -> status(p.apiPort, "127.0.0.1", "/health"), t0, new TreeMap<>());
      until(() -> net.connect(p.proxyPort, "127.0.0.1").compose(socket -> socket.close()).map(200).otherwise(-1), t0, codes).await();
      List<Future<Long>> answered = new ArrayList<>();
      for (String s : all) {
        answered.add(until(() -> status(p.proxyPort, s + ".localhost", "/"), t0, codes).onSuccess(x -> count(codes, 200)));
      }
      Future.join(answered).await();
      ups.add(up.await() / 1e6);
      times.add(answered.stream().mapToLong(Future::result).max().orElse(0) / 1e6);
      cpu.add(Procs.cpuSeconds(p.pid()) + Procs.cpuSeconds(runners) - runnersCpu0);
      Bench.progress(isolation + ": restart " + (r + 1) + ": all " + all.size() + " answering " + fmt(times.get(r)) + " ms after the launch (/health "
          + fmt(ups.get(r)) + " ms)");
    }
    Stats s = Stats.of(times);
    report.row("restart after SIGKILL (" + isolation + "): " + all.size() + " services answering", s.summary(0) + " ms",
        "from the launch of the new platform JVM (from target/ferry.jsa, as scripts/ferry starts it); /health after " + Stats.of(ups).summary(0)
            + " ms; CPU the platform and its runners used meanwhile " + Stats.of(cpu).summary(2) + " s; statuses seen meanwhile " + codes);
    double limit = all.size() <= 101 ? 1_500 : 4_000;
    report.target("restart, " + all.size() + " services answering < " + fmt(limit) + " ms (" + isolation + ")", s.median(), " ms", s.median() < limit);
    report.target("404 during a restore (" + isolation + ") = 0", codes.getOrDefault(404, 0), "", !codes.containsKey(404));
  }

  /**
   * How long after {@code t0} {@code ask} first answered 200, asked every 20 ms (for at most 3
   * minutes); its other answers are counted in {@code codes}.
   */
  private Future<Long> until(java.util.function.Supplier<Future<Integer>> ask, long t0, Map<Integer, Integer> codes) {
    return ask.get().compose(code -> {
      if (code == 200) return Future.succeededFuture(System.nanoTime() - t0);
      count(codes, code);
      if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(3)) return Future.failedFuture("no answer 200 after 3 min (last " + code + ")");
      Promise<Void> later = Promise.promise();
      vertx.setTimer(20, t -> later.complete());
      return later.future().compose(x -> until(ask, t0, codes));
    });
  }

  /** The status of a GET of {@code path} at {@code host} on {@code port} (-1: no answer). */
  private Future<Integer> status(int port, String host, String path) {
    return http.get(port, "127.0.0.1", path).putHeader("Host", host).timeout(30_000).send().map(r -> r.statusCode()).otherwise(-1);
  }

  private static void count(Map<Integer, Integer> codes, int code) {
    synchronized (codes) {
      codes.merge(code, 1, Integer::sum);
    }
  }

  // ---- waking ------------------------------------------------------------------------------------------

  /** A service put to sleep (run.idleTimeoutMs 1 s) and woken by a request, over and over: that request's time. */
  private void wake(String isolation) throws Exception {
    Path dir = java.nio.file.Files.createDirectories(work.resolve("wake-" + isolation));
    try (ChildPlatform p = ChildPlatform.start(dir, new JsonObject().put("isolation", isolation).put("idleTimeoutMs", 1_000), http)) {
      String id = p.deploy("napper", archive).getString("id");
      List<Double> times = new ArrayList<>();
      for (int i = 0; i < o.wakes(); i++) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!"sleeping".equals(p.get("/api/v1/deployments/" + id).getString("state"))) {
          if (System.nanoTime() > deadline) throw new IllegalStateException("napper did not fall asleep");
          ChildPlatform.sleep(20);
        }
        // the warm pool refills after each wake (a runner starts and warms up): as after a real night's sleep, it is full
        ChildPlatform.sleep(5_000);
        long t0 = System.nanoTime();
        int status = p.status("napper");
        if (status != 200) throw new IllegalStateException("a woken napper answered " + status);
        times.add((System.nanoTime() - t0) / 1e6);
      }
      Stats s = Stats.of(times);
      report.row("wake (" + isolation + "): request to a sleeping service → its answer", "p50 " + fmt(s.median()) + " / p90 " + fmt(s.percentile(90))
          + " / max " + fmt(s.max()) + " ms", "n=" + s.count() + ", min " + fmt(s.min()) + (isolation.equals("process")
          ? "; a runner from the warm pool (run.warmRunners 2)" : "; the shared runner"));
      if (isolation.equals("process")) report.target("wake p50 < 50 ms (warm pool)", s.median(), " ms", s.median() < 50);
    }
  }

  // ---- formatting ----------------------------------------------------------------------------------

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.1f", v);
  }

  private static String fmt2(double v) {
    return String.format(java.util.Locale.ROOT, "%.2f", v);
  }

  private static String kib(long bytes) {
    return String.valueOf(bytes / 1024);
  }
}
