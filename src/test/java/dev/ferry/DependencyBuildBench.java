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
 * Not a test: measures the warm build time (queued → built) of a service with three dependencies,
 * first build (resolution into an empty local repository, from file:// repositories) against a
 * redeploy of the same pom (cached). Run with
 * {@code mvn -q -B -o test -Dtest=DependencyBuildBench -Dferry.bench=true}; results in the test's output file.
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
        try (TestPlatform ferry = TestPlatform.start(c -> c.setMavenRemoteRepositories(List.of(repo.url(), FileRepository.mavenLocalRepositoryUrl())))) {
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
