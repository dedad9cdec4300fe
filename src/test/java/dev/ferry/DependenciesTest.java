package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Services with a pom.xml and real dependencies, resolved in-process from file:// repositories: one
 * the test fills with libraries it compiles, and the local repository Maven ran the build from.
 */
@Tag("platform")
class DependenciesTest {

  static final Path repoDir = TestPlatform.tempDir("ferry-test-repo");
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("maven.remoteRepositories",
      List.of(new FileRepository(repoDir).url(), FileRepository.mavenLocalRepositoryUrl())));

  @BeforeAll
  static void fillTheRepository() throws Exception {
    FileRepository repo = new FileRepository(repoDir);
    for (String v : List.of("1.0", "2.0")) {
      repo.install("fixture.lib", "greeter", v, Map.of("fixture.lib.Greeter",
          "package fixture.lib; public class Greeter { public static String greet() { return \"greeter " + v + "\"; } }"), Map.of());
    }
    repo.installBannerProcessor();
  }

  @AfterAll
  static void stop() {
    TestPlatform.deleteTree(repoDir);
  }

  @Test
  void a_template_engine_renders_a_template_from_the_service_resources() {
    JsonObject d = ferry.deploy("templates", "pages");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    List<String> deps = fileNames(d);
    assertTrue(deps.stream().anyMatch(n -> n.startsWith("freemarker-")), deps.toString());
    assertTrue(deps.stream().anyMatch(n -> n.startsWith("vertx-web-templ-freemarker-")), deps.toString());
    // shared with the platform, so not bundled
    assertTrue(deps.stream().noneMatch(n -> n.startsWith("vertx-web-5") || n.startsWith("vertx-core-") || n.startsWith("netty-")), deps.toString());
    HttpResponse<Buffer> page = ferry.viaProxy("pages", "/?name=Ferry");
    assertEquals(200, page.statusCode(), page.bodyAsString());
    assertEquals("<h1>Hello Ferry, rendered by FreeMarker</h1>", page.bodyAsString().strip());
  }

  @Test
  void jackson_databind_from_an_imported_bom_maps_records() {
    JsonObject d = ferry.deploy("jackson", "orders");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertTrue(fileNames(d).containsAll(List.of("jackson-databind-2.18.2.jar", "jackson-annotations-2.18.2.jar")), fileNames(d).toString());
    HttpResponse<Buffer> r = ferry.http.post(ferry.proxyPort(), "127.0.0.1", "/").putHeader("Host", "orders.localhost")
        .sendJsonObject(new JsonObject().put("item", "tea").put("quantity", 2)).await();
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals(new JsonObject().put("item", "TEA").put("quantity", 4), r.bodyAsJsonObject());
  }

  @Test
  void two_services_run_two_versions_of_one_library_side_by_side() {
    assertEquals("deployed", ferry.deploy("greeter-v1", "greet-one").getString("state"));
    assertEquals("deployed", ferry.deploy("greeter-v2", "greet-two").getString("state"));
    assertEquals("greeter 1.0", ferry.viaProxy("greet-one", "/").bodyAsString());
    assertEquals("greeter 2.0", ferry.viaProxy("greet-two", "/").bodyAsString());
    assertEquals("greeter 1.0", ferry.viaProxy("greet-one", "/").bodyAsString());
  }

  @Test
  void a_shared_artifact_in_another_version_is_a_warning_and_not_bundled() {
    JsonObject d = ferry.deploy("greeter-v1", "greet-warned");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals(List.of("greeter-1.0.jar"), fileNames(d));
    assertTrue(lines(d, "warn").stream().anyMatch(l -> l.contains("io.vertx:vertx-core:5.0.0") && l.contains("5.0.7")),
        lines(d, "warn").toString());
  }

  @Test
  void a_redeploy_with_the_same_pom_resolves_nothing() {
    JsonObject first = ferry.deploy("greeter-v2", "greet-again");
    // the same pom with changed sources: not a build-cache hit, so the build asks the resolver again
    JsonObject second = ferry.awaitFinal(ferry.upload("greet-again", TestPlatform.packDir(editedCopy("greeter-v2")))
        .bodyAsJsonObject().getString("id"));
    assertEquals("deployed", second.getString("state"), second.encodePrettily());
    assertTrue(resolveLines(first).stream().anyMatch(l -> l.startsWith("Resolved in")), resolveLines(first).toString());
    List<String> again = resolveLines(second);
    assertTrue(again.stream().anyMatch(l -> l.startsWith("pom.xml unchanged")), again.toString());
    assertTrue(again.stream().noneMatch(l -> l.startsWith("Reading pom.xml") || l.startsWith("Resolved in") || l.startsWith("Downloaded")),
        again.toString());
    assertEquals(fileNames(first), fileNames(second));
    assertEquals("greeter 2.0", ferry.viaProxy("greet-again", "/").bodyAsString());
  }

  @Test
  void an_unresolvable_dependency_ends_in_error_naming_its_coordinates() {
    JsonObject d = ferry.deploy("missing-dependency", "missing");
    assertEquals("error", d.getString("state"), d.encodePrettily());
    String error = d.getString("error");
    assertTrue(error.contains("fixture.missing:does-not-exist") && error.contains("1.0"), error);
  }

  @Test
  void annotation_processors_release_and_parameters_follow_the_pom() {
    JsonObject d = ferry.deploy("processors", "processed");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals("made by a processor; parameter visitor", ferry.viaProxy("processed", "/").bodyAsString());
    assertTrue(lines(d, "info").stream().anyMatch(l -> l.contains("for Java 11")), lines(d, "info").toString());
    assertTrue(fileNames(d).isEmpty(), "a processor is not bundled: " + fileNames(d));
  }

  @Test
  void a_release_above_the_platform_jdk_is_an_error_naming_it() {
    JsonObject d = ferry.deploy("java-21", "too-new");
    assertEquals("error", d.getString("state"), d.encodePrettily());
    assertTrue(d.getString("error").contains("Java 21") && d.getString("error").contains("JDK " + Runtime.version().feature()),
        d.getString("error"));
  }

  @Test
  void a_plain_vertx_project_deploys_unchanged() {
    JsonObject d = ferry.deploy("plain-vertx", "starter");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals("com.example.starter.MainVerticle", d.getJsonObject("artifact").getString("entry"));
    assertEquals("Hello from Vert.x!", ferry.viaProxy("starter", "/hello").bodyAsString());
  }

  private static List<String> fileNames(JsonObject deployment) {
    return deployment.getJsonObject("artifact").getJsonArray("dependencies").stream()
        .map(p -> Path.of((String) p).getFileName().toString()).toList();
  }

  /** A copy of fixture {@code name} with a comment added to each source file. */
  private static Path editedCopy(String name) {
    try {
      Path from = TestPlatform.FIXTURES.resolve(name), to = Files.createTempDirectory(name);
      try (var files = Files.walk(from)) {
        for (Path f : files.toList()) {
          Path dest = to.resolve(from.relativize(f).toString());
          if (Files.isDirectory(f)) Files.createDirectories(dest);
          else Files.writeString(dest, Files.readString(f) + (f.toString().endsWith(".java") ? "\n// edited\n" : ""));
        }
      }
      return to;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> resolveLines(JsonObject deployment) {
    return ferry.platform.ledger().logs(deployment.getString("id")).stream()
        .filter(l -> "resolve".equals(l.stage())).map(l -> l.message()).toList();
  }

  private static List<String> lines(JsonObject deployment, String level) {
    return ferry.platform.ledger().logs(deployment.getString("id")).stream()
        .filter(l -> level.equals(l.level().name().toLowerCase(java.util.Locale.ROOT))).map(l -> l.message()).toList();
  }
}
