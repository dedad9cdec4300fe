package dev.ferry.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code scripts/bench} measures and how often; {@code --quick} shrinks everything for a smoke
 * run; {@code --deploys-only} measures deploys, activation and churn only (no wrk or nginx needed).
 */
record BenchOptions(boolean quick, boolean deploysOnly, int warmDeploys, int activations, int churn, int proxyRuns, int proxySeconds, int proxyConnections,
                    int processServices, List<Integer> spread, int restarts, int wakes, Path out) {

  static final String USAGE = """
      usage: scripts/bench [--quick] [--deploys-only] [--warm=20] [--activations=20] [--churn=500] [--proxy-runs=5] [--proxy-seconds=5]
                           [--connections=32] [--process-services=100] [--spread=100,500] [--restarts=3] [--wakes=20] [--out=FILE]""";

  static BenchOptions parse(String... args) {
    boolean quick = List.of(args).contains("--quick"), deploysOnly = List.of(args).contains("--deploys-only");
    int warm = quick ? 5 : 20, act = quick ? 5 : 20, churn = quick ? 50 : 500, runs = quick ? 1 : 5;
    int secs = quick ? 3 : 5, conns = 32, processServices = quick ? 10 : 100, restarts = quick ? 1 : 3, wakes = quick ? 5 : 20;
    List<Integer> spread = quick ? List.of(20) : List.of(100, 500);
    Path out = Path.of("target", "bench-results.md");
    for (String a : args) {
      if (a.equals("--quick") || a.equals("--deploys-only")) continue;
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) throw new IllegalArgumentException("unknown argument " + a + "\n" + USAGE);
      String key = a.substring(2, eq), v = a.substring(eq + 1);
      switch (key) {
        case "warm" -> warm = positive(key, v);
        case "activations" -> act = positive(key, v);
        case "churn" -> churn = positive(key, v);
        case "proxy-runs" -> runs = positive(key, v);
        case "proxy-seconds" -> secs = positive(key, v);
        case "connections" -> conns = positive(key, v);
        case "process-services" -> processServices = positive(key, v);
        case "restarts" -> restarts = positive(key, v);
        case "wakes" -> wakes = positive(key, v);
        case "out" -> out = Path.of(v);
        case "spread" -> {
          List<Integer> ns = new ArrayList<>();
          for (String n : v.split(",")) ns.add(positive(key, n.trim()));
          ns.sort(null);
          spread = List.copyOf(ns);
        }
        default -> throw new IllegalArgumentException("unknown option --" + key + "\n" + USAGE);
      }
    }
    return new BenchOptions(quick, deploysOnly, warm, act, churn, runs, secs, conns, processServices, spread, restarts, wakes, out);
  }

  private static int positive(String key, String v) {
    try {
      int n = Integer.parseInt(v);
      if (n > 0) return n;
    } catch (NumberFormatException ignored) {
      // fall through
    }
    throw new IllegalArgumentException("--" + key + " needs a positive number, got " + v);
  }
}
