package dev.ferry;

import dev.ferry.builder.BuildCache;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build cache, artifact retention, and what deleting a service leaves. */
@Tag("platform")
class ArtifactFilesTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("artifacts.keep", 2));

  static List<String> stages(String id) {
    return ferry.platform.ledger().logs(id).stream().map(l -> l.stage()).toList();
  }

  static List<String> jars(String service) throws IOException {
    Path dir = ferry.platform.dataDir().artifacts(service);
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void the_same_source_again_reuses_the_artifact_and_compiles_nothing() {
    JsonObject first = ferry.deploy("rest", "cache-a");
    assertTrue(stages(first.getString("id")).contains("compile"));
    JsonObject again = ferry.deploy("rest", "cache-b");
    assertEquals("deployed", again.getString("state"), again.encodePrettily());
    List<String> stages = stages(again.getString("id"));
    assertFalse(stages.contains("compile"), stages.toString());
    assertTrue(ferry.platform.ledger().logs(again.getString("id")).stream()
        .anyMatch(l -> l.message().contains("reusing its artifact") && l.message().contains(first.getString("id"))));
    JsonObject a = first.getJsonObject("artifact"), b = again.getJsonObject("artifact");
    assertEquals(a.getString("sha256"), b.getString("sha256"));
    assertEquals(a.getString("sourceHash"), b.getString("sourceHash"));
    // each deployment its own copy (the API does not show where it lies)
    assertNotEquals(ferry.platform.ledger().deployment(first.getString("id")).orElseThrow().artifact().jar(),
        ferry.platform.ledger().deployment(again.getString("id")).orElseThrow().artifact().jar());
    assertEquals("Hello from a resource", ferry.viaProxy("cache-b", "/greeting").bodyAsJsonObject().getString("greeting"));
  }

  @Test
  void the_source_hash_is_of_the_tree_not_the_archive() throws IOException {
    Path one = Files.createTempDirectory("tree1"), two = Files.createTempDirectory("tree2");
    try {
      for (Path d : List.of(one, two)) {
        Files.createDirectories(d.resolve("src/main/java/x"));
        Files.writeString(d.resolve("src/main/java/x/A.java"), "class A {}");
        Files.writeString(d.resolve("pom.xml"), "<project/>");
      }
      assertEquals(BuildCache.hash(one), BuildCache.hash(two));
      Files.writeString(two.resolve("src/main/java/x/A.java"), "class A { }");
      assertNotEquals(BuildCache.hash(one), BuildCache.hash(two));
      Files.move(two.resolve("pom.xml"), two.resolve("pom2.xml"));
      Files.writeString(two.resolve("src/main/java/x/A.java"), "class A {}");
      assertNotEquals(BuildCache.hash(one), BuildCache.hash(two));
    } finally {
      TestPlatform.deleteTree(one);
      TestPlatform.deleteTree(two);
    }
  }

  @Test
  void only_the_newest_artifacts_are_kept_and_older_ones_cannot_be_rolled_back_to() throws IOException {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) ids.add(ferry.deploy("hello", "kept").getString("id"));
    List<String> expected = List.of(ids.get(2) + ".jar", ids.get(3) + ".jar");
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!jars("kept").equals(expected) && System.nanoTime() < deadline) TestPlatform.sleep(25);
    assertEquals(expected, jars("kept"));
    assertFalse(Files.exists(ferry.platform.dataDir().build(ids.get(0))));
    assertTrue(Files.exists(ferry.platform.dataDir().build(ids.get(3))));
    var r = ferry.rollback("kept", ids.get(0));
    assertEquals(409, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("message").contains("gone"), r.bodyAsString());
    var back = ferry.rollback("kept", ids.get(2));
    assertEquals(202, back.statusCode());
    assertEquals("deployed", ferry.awaitFinal(back.bodyAsJsonObject().getString("id")).getString("state"));
  }

  @Test
  void deleting_a_service_removes_its_files_but_keeps_its_history() {
    String id = ferry.deploy("hello", "doomed").getString("id");
    assertTrue(Files.exists(ferry.platform.dataDir().artifact("doomed", id)));
    assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/doomed").statusCode());
    assertFalse(Files.exists(ferry.platform.dataDir().artifacts("doomed")));
    assertFalse(Files.exists(ferry.platform.dataDir().build(id)));
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/doomed").statusCode());
    var history = ferry.api(HttpMethod.GET, "/api/v1/services/doomed/deployments");
    assertEquals(200, history.statusCode());
    assertEquals(id, history.bodyAsJsonObject().getJsonArray("deployments").getJsonObject(0).getString("id"));
    assertEquals("deleted", history.bodyAsJsonObject().getJsonArray("deployments").getJsonObject(0).getString("state"));
  }
}
