package dev.ferry;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Not a test: measures the warm build time (queued → built) of services with dependencies, first
 * build (resolution into an empty local repository) against a rebuild with the same pom (resolution
 * cached). Run with {@code mvn -q -B test -Dtest=DependencyBuildBench -Dferry.bench=true}; results
 * in the test's output file ({@code target/surefire-reports/dev.ferry.DependencyBuildBench-output.txt}).
 */
class DependencyBuildBench {

  @Test
  void warm_build_time_first_vs_cached() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("ferry.bench"), "a benchmark: run with -Dferry.bench=true");
    Path repoDir = Files.createTempDirectory("ferry-bench-repo");
    FileRepository repo = new FileRepository(repoDir).install("fixture.lib", "greeter", "1.0", Map.of("fixture.lib.Greeter",
        "package fixture.lib; public class Greeter { public static String greet() { return \"hi\"; } }"), Map.of());
    List<Long> first = new ArrayList<>(), cached = new ArrayList<>();
    try {
      for (int run = 0; run < 5; run++) {
        try (TestPlatform ferry = TestPlatform.start(c -> c.with("maven.remoteRepositories", List.of(repo.url(), FileRepository.mavenLocalRepositoryUrl())))) {
          // warm the compiler and the resolver with services of their own
          ferry.deploy("hello", "warm");
          ferry.deploy("greeter-v2", "warm-deps");
          first.add(buildMillis(ferry.deploy("three-deps", "three")));
          for (int i = 0; i < 3; i++) cached.add(buildMillis(ferry.deploy("three-deps", "three")));
        }
      }
    } finally {
      TestPlatform.deleteTree(repoDir);
    }
    org.slf4j.LoggerFactory.getLogger(DependencyBuildBench.class).info("BENCH three-deps build ms: first {} (median {}), cached {} (median {})",
        first, median(first), cached, median(cached));
  }

  /**
   * guava + commons-text from Maven Central, with the default config, on a platform whose compiler is
   * warm: the first build downloads into an empty local repository; the rebuild (same pom, an edited
   * source) resolves from the cache and compiles.
   */
  @Test
  void build_time_from_maven_central_first_vs_cached() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("ferry.bench"), "a benchmark: run with -Dferry.bench=true");
    List<Long> first = new ArrayList<>(), cached = new ArrayList<>(), resolve = new ArrayList<>();
    List<String> fetched = new ArrayList<>();
    for (int run = 0; run < 3; run++) {
      try (TestPlatform ferry = TestPlatform.start()) {
        ferry.deploy("hello", "warm");
        JsonObject d = ferry.deploy("guava-text", "guava-text");
        first.add(buildMillis(d));
        List<String> log = ferry.platform.ledger().logs(d.getString("id")).stream().map(l -> l.message()).toList();
        log.stream().filter(l -> l.startsWith("Fetched")).forEach(fetched::add);
        log.stream().filter(l -> l.startsWith("Resolved in ")).map(l -> Long.parseLong(l.replaceAll("\\D", ""))).forEach(resolve::add);
        Path edited = Files.createTempDirectory("guava-text");
        try {
          copyEdited(TestPlatform.FIXTURES.resolve("guava-text"), edited);
          String id = ferry.upload("guava-text", TestPlatform.packDir(edited)).bodyAsJsonObject().getString("id");
          cached.add(buildMillis(ferry.awaitFinal(id)));
        } finally {
          TestPlatform.deleteTree(edited);
        }
      }
    }
    org.slf4j.LoggerFactory.getLogger(DependencyBuildBench.class).info(
        "BENCH guava+commons-text build ms: first {} (median {}; resolution {} median {}; {}), cached rebuild {} (median {})",
        first, median(first), resolve, median(resolve), fetched, cached, median(cached));
  }

  private static void copyEdited(Path from, Path to) throws java.io.IOException {
    try (var files = Files.walk(from)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path dest = to.resolve(from.relativize(f).toString());
        Files.createDirectories(dest.getParent());
        Files.writeString(dest, Files.readString(f) + (f.toString().endsWith(".java") ? "\n// edited\n" : ""));
      }
    }
  }

  private static long buildMillis(JsonObject d) {
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    JsonObject t = d.getJsonObject("timeline");
    return Duration.between(Instant.parse(t.getString("queued")), Instant.parse(t.getString("built"))).toMillis();
  }

  private static long median(List<Long> xs) {
    List<Long> s = xs.stream().sorted().toList();
    return s.get(s.size() / 2);
  }
}
