package dev.ferry.bench;

import dev.ferry.TestPlatform;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What runner processes cost, measured through a real platform: a runner's cold start (a deploy
 * with no warm runner: the load stage is launch + hello + load; with and without the
 * class-data-sharing archive, alternating), an idle runner's memory (RSS and PSS from
 * {@code /proc}), and density in {@code shared} mode (the shared runner's RSS per service).
 * Not a test: {@code java -cp target/test-classes:target/classes:$(cat cp.txt) dev.ferry.bench.RunnerBench [rounds] [idle] [shared]}.
 */
public final class RunnerBench {

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int idle = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int shared = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    coldStart(rounds);
    idleMemory(idle);
    sharedDensity(shared);
    System.exit(0);
  }

  /** Deploys hello {@code rounds} times on a platform without warm runners, with and without CDS, alternating. */
  static void coldStart(int rounds) {
    List<Double> withCds = new ArrayList<>(), without = new ArrayList<>();
    List<Double> deployWith = new ArrayList<>(), deployWithout = new ArrayList<>();
    for (boolean cds : new boolean[] {true, false}) {
      // make the archive once first, so the CDS rounds do not race its training run
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.warmRunners", 0).with("run.cds", cds))) {
        ferry.deploy("hello", "prime");
      }
    }
    for (int i = 0; i < rounds; i++) {
      for (boolean cds : new boolean[] {true, false}) {
        try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.warmRunners", 0).with("run.cds", cds))) {
          ferry.deploy("hello", "prime"); // the compiler and the platform's own paths, warm
          JsonObject d = ferry.deploy("hello", "cold");
          JsonObject t = d.getJsonObject("timeline");
          double load = ms(t.getString("built"), t.getString("loaded"));
          double total = ms(t.getString("built"), t.getString("deployed"));
          (cds ? withCds : without).add(load);
          (cds ? deployWith : deployWithout).add(total);
        }
      }
    }
    System.out.printf("runner cold start (built → loaded: launch, hello, load), with CDS:    %s ms%n", Stats.of(withCds).summary(1));
    System.out.printf("runner cold start (built → loaded: launch, hello, load), without CDS: %s ms%n", Stats.of(without).summary(1));
    System.out.printf("built → deployed on a cold runner, with CDS:    %s ms%n", Stats.of(deployWith).summary(1));
    System.out.printf("built → deployed on a cold runner, without CDS: %s ms%n", Stats.of(deployWithout).summary(1));
  }

  /** Deploys {@code n} services in runners of their own and reads each runner's RSS and PSS once it idles. */
  static void idleMemory(int n) throws Exception {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.warmRunners", 0))) {
      Set<Long> pids = new LinkedHashSet<>();
      for (int i = 0; i < n; i++) {
        ferry.deploy("hello", "idle" + i);
        for (int k = 0; k < 20; k++) ferry.viaProxy("idle" + i, "/");
        // the host's pid: a sandboxed service knows only its own namespace's
        pids.add(ferry.runnerPid("idle" + i));
      }
      Thread.sleep(2_000);
      List<Double> rss = new ArrayList<>(), pss = new ArrayList<>(), threads = new ArrayList<>();
      for (long pid : pids) {
        rss.add(kib(pid, "status", "VmRSS:") / 1024.0);
        pss.add(kib(pid, "smaps_rollup", "Pss:") / 1024.0);
        threads.add((double) kib(pid, "status", "Threads:"));
      }
      System.out.printf("idle runner (hello, after 21 requests), %d runners: RSS %s MiB, PSS %s MiB, threads %s%n", n,
          Stats.of(rss).summary(1), Stats.of(pss).summary(1), Stats.of(threads).summary(0));
      System.out.printf("  process mode: %.0f services per GiB of PSS%n", 1024 / Stats.of(pss).median());
    }
  }

  /** Deploys {@code n} services into one shared runner and reads its RSS and PSS before and after. */
  static void sharedDensity(int n) throws Exception {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.isolation", "shared").with("run.warmRunners", 0))) {
      ferry.deploy("hello", "s0");
      long pid = ferry.runnerPid("s0");
      Thread.sleep(1_000);
      long rss0 = kib(pid, "status", "VmRSS:"), pss0 = kib(pid, "smaps_rollup", "Pss:");
      List<Double> deploys = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        JsonObject d = ferry.deploy("hello", "s" + i);
        deploys.add(ms(d.getJsonObject("timeline").getString("built"), d.getJsonObject("timeline").getString("deployed")));
      }
      int answering = 0;
      for (int i = 0; i <= n; i++) if (ferry.viaProxy("s" + i, "/").statusCode() == 200) answering++;
      Thread.sleep(2_000);
      long rss = kib(pid, "status", "VmRSS:"), pss = kib(pid, "smaps_rollup", "Pss:");
      double perService = (rss - rss0) / (double) n;
      System.out.printf("shared runner, %d more services (%d answering): RSS %d → %d MiB (%.0f KiB each), PSS %d → %d MiB, threads %d;"
              + " built → deployed %s ms%n", n, answering, rss0 / 1024, rss / 1024, perService, pss0 / 1024, pss / 1024,
          kib(pid, "status", "Threads:"), Stats.of(deploys).summary(1));
      System.out.printf("  shared mode: %.0f services per GiB%n", 1024 * 1024 / perService);
      ferry.api(HttpMethod.GET, "/health");
    }
  }

  private static double ms(String from, String to) {
    return Duration.between(Instant.parse(from), Instant.parse(to)).toNanos() / 1e6;
  }

  /** A {@code kB} (or plain count) field of {@code /proc/<pid>/<file>}. */
  private static long kib(long pid, String file, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), file))) {
      if (line.startsWith(field)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException(field + " not in /proc/" + pid + "/" + file);
  }
}
