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
import java.util.List;
import java.util.stream.Stream;

/**
 * What {@code @Postgres} costs (scripts/bench-resources): the first deploy that provisions a
 * database with the embedded server cold (binaries unpacked, cluster created) and warm (cluster
 * there, server stopped), the load stage with and without a new database on a running server, and
 * the disk and server memory each database and each connected service adds. Prints a table.
 */
public final class ResourcesBench {

  private ResourcesBench() {
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    String repo = Path.of(System.getProperty("user.home"), ".m2", "repository").toUri().toString();
    Path data = Files.createTempDirectory("ferry-bench-resources");
    List<String> rows = new ArrayList<>();
    try {
      try (TestPlatform ferry = start(data, repo)) {
        // the compiler and the resolver warm, so the deploys below differ by their resources alone
        ferry.deploy("hello", "warmup");
        JsonObject cold = ferry.deploy("pg-notes", "cold");
        rows.add(row("first deploy with a database, server cold (unpack + initdb + start + create)", cold));
        rows.add("    its log: " + timings(ferry, cold.getString("id")));
      }
      try (TestPlatform ferry = start(data, repo)) {
        // the restart activates "cold" again: its load starts the server on the cluster that is there
        String coldId = ferry.api(HttpMethod.GET, "/api/v1/services/cold").bodyAsJsonObject().getJsonObject("current", new JsonObject())
            .getString("id");
        JsonObject restored = ferry.awaitFinal(coldId);
        long t0 = System.nanoTime();
        while (!"deployed".equals(restored.getString("state")) && System.nanoTime() - t0 < 60_000_000_000L) {
          TestPlatform.sleep(20);
          restored = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + coldId).bodyAsJsonObject();
        }
        rows.add("after a platform restart, the restored service's activation starts the server (cluster there): "
            + String.join("; ", lines(ferry, coldId).stream().filter(l -> l.startsWith("The embedded PostgreSQL is up")).toList()));
        ferry.deploy("hello", "warmup");
        JsonObject warm = ferry.deploy("pg-notes", "warm");
        rows.add(row("deploy of a new service with a new database, server running (build cached)", warm));
        rows.add("    its log: " + timings(ferry, warm.getString("id")));
        JsonObject again = ferry.deploy("pg-notes", "warm");
        rows.add(row("redeploy, same source, database there (server running)", again));

        ferry.api(HttpMethod.DELETE, "/api/v1/services/warm");
        TestPlatform.sleep(1000);
        long base = du(data.resolve("postgres/data/base"));
        long pssIdle = pss(data);
        List<Long> create = new ArrayList<>(), load = new ArrayList<>(), loadKept = new ArrayList<>(), plain = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          JsonObject d = ferry.deploy("pg-notes", "svc-" + i);
          load.add(stage(d, "built", "loaded"));
          create.add(createdMs(ferry, d.getString("id")));
          loadKept.add(stage(ferry.deploy("pg-notes", "svc-" + i), "built", "loaded"));
          plain.add(stage(ferry.deploy("hello", "plain-" + i), "built", "loaded"));
        }
        TestPlatform.sleep(1000);
        long pssConnected = pss(data);
        for (int i = 0; i < n; i++) ferry.api(HttpMethod.DELETE, "/api/v1/services/svc-" + i);
        TestPlatform.sleep(1000);
        long pssDbs = pss(data);
        long disk = du(data.resolve("postgres/data/base")) - base;
        rows.add("load stage (built → loaded), median of " + n + ": new database " + median(load) + " ms, database there "
            + median(loadKept) + " ms, no @Postgres " + median(plain) + " ms");
        rows.add("creating one database and role (the deploy log's figure), median: " + median(create) + " ms; min " + min(create)
            + ", max " + max(create));
        rows.add("disk per database: " + disk / n / 1024 + " KiB (postgres/data/base grew " + disk / 1024 / 1024 + " MiB for " + n + ")");
        rows.add("server memory (PSS of the postmaster and its processes), no service connected: " + pssIdle / 1024 + " MiB with 2 databases, "
            + pssDbs / 1024 + " MiB with " + (n + 2) + " (" + (pssDbs - pssIdle) / n + " KiB per database); with " + n
            + " services connected (one pooled connection each): " + pssConnected / 1024 + " MiB (" + (pssConnected - pssDbs) / n
            + " KiB per connected service)");
        rows.add("data dir: postgres/runtime " + du(data.resolve("postgres/runtime")) / 1024 / 1024 + " MiB, postgres/data "
            + du(data.resolve("postgres/data")) / 1024 / 1024 + " MiB");
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
    System.out.println();
    rows.forEach(System.out::println);
  }

  private static TestPlatform start(Path data, String repo) {
    return TestPlatform.start(c -> c.with("dataDir", data).with("maven.remoteRepositories", List.of(repo)));
  }

  private static String row(String what, JsonObject d) {
    if (!"deployed".equals(d.getString("state"))) throw new IllegalStateException(what + ": " + d.encodePrettily());
    return what + ": upload → deployed " + stage(d, "queued", "deployed") + " ms, of which load " + stage(d, "built", "loaded") + " ms";
  }

  private static long stage(JsonObject d, String from, String to) {
    JsonObject t = d.getJsonObject("timeline");
    if (!t.containsKey(from)) from = "built";
    return Duration.between(Instant.parse(t.getString(from)), Instant.parse(t.getString(to))).toMillis();
  }

  private static String timings(TestPlatform ferry, String id) {
    return String.join("; ", lines(ferry, id).stream().filter(l -> l.matches(".*\\(\\d+ ms\\)$")).toList());
  }

  private static List<String> lines(TestPlatform ferry, String id) {
    return ferry.api(HttpMethod.GET, "/api/v1/deployments/" + id + "/logs").bodyAsString().lines()
        .map(l -> new JsonObject(l).getString("message")).toList();
  }

  private static long createdMs(TestPlatform ferry, String id) {
    return lines(ferry, id).stream().filter(l -> l.startsWith("Database notes: created")).findFirst()
        .map(l -> Long.parseLong(l.replaceAll(".*\\((\\d+) ms\\)$", "$1"))).orElse(-1L);
  }

  /** KiB of PSS of the embedded server's processes. */
  private static long pss(Path data) throws IOException {
    long pid = Long.parseLong(Files.readAllLines(data.resolve("postgres/data/postmaster.pid")).get(0).trim());
    List<ProcessHandle> all = new ArrayList<>();
    ProcessHandle.of(pid).ifPresent(all::add);
    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(all::add));
    long kib = 0;
    for (ProcessHandle h : all) {
      try {
        for (String l : Files.readAllLines(Path.of("/proc/" + h.pid() + "/smaps_rollup"))) {
          if (l.startsWith("Pss:")) kib += Long.parseLong(l.replaceAll("\\D", ""));
        }
      } catch (IOException gone) {
        // a backend that ended
      }
    }
    return kib;
  }

  private static long du(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static long median(List<Long> xs) {
    List<Long> s = xs.stream().sorted().toList();
    return s.get(s.size() / 2);
  }

  private static long min(List<Long> xs) {
    return xs.stream().mapToLong(Long::longValue).min().orElse(-1);
  }

  private static long max(List<Long> xs) {
    return xs.stream().mapToLong(Long::longValue).max().orElse(-1);
  }
}
