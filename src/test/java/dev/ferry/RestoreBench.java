package dev.ferry;


import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures a restart: deploys N services, stops the platform, starts a new one on the same data
 * dir and times until all N answer through the proxy; prints the time and each service's
 * activation time (reactivated → deployed, from the ledger). Not a test:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) dev.ferry.RestoreBench 10 100}.
 */
public final class RestoreBench {

  public static void main(String[] args) throws Exception {
    for (String a : args) run(Integer.parseInt(a));
    System.exit(0);
  }

  static void run(int n) throws Exception {
    Path data = Files.createTempDirectory("ferry-bench");
    try {
      List<String> services = new ArrayList<>();
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data))) {
        for (int i = 0; i < n; i++) {
          String s = "svc" + i;
          if (!"deployed".equals(ferry.deploy("hello", s).getString("state"))) throw new AssertionError(s);
          services.add(s);
        }
      }
      long t0 = System.nanoTime();
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data))) {
        long up = System.nanoTime();
        List<String> waiting = new ArrayList<>(services);
        while (!waiting.isEmpty()) {
          waiting.removeIf(s -> {
            try {
              return ferry.viaProxy(s, "/").statusCode() == 200;
            } catch (Exception e) {
              return false;
            }
          });
          if (System.nanoTime() - t0 > Duration.ofMinutes(5).toNanos()) throw new AssertionError("not answering: " + waiting);
        }
        long all = System.nanoTime();
        List<Long> activation = new ArrayList<>();
        for (String s : services) {
          var t = ferry.platform.ledger().service(s).orElseThrow().current().timeline();
          activation.add(Duration.between(t.get("reactivated"), t.get("deployed")).toMillis());
        }
        activation.sort(null);
        System.out.printf("N=%d: platform up in %d ms; all %d answering %d ms after start; activation per service "
                + "(reactivated -> deployed) median %d ms, p90 %d ms, max %d ms%n",
            n, (up - t0) / 1_000_000, n, (all - t0) / 1_000_000, activation.get(n / 2), activation.get(n * 9 / 10),
            activation.get(n - 1));
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
  }
}
