package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dependencies fetched over real HTTP(S) from Maven repositories the test serves on loopback, by a
 * {@code ferry server} running on the shipped classpath ({@link PackagedFerry}).
 */
class HttpRepositoriesTest {

  static Vertx vertx;
  static Path repoDir;
  static Path work;
  static MavenRepositoryServer repo;
  static PackagedFerry ferry;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    work = Files.createTempDirectory("ferry-http-repos");
    repoDir = work.resolve("repo");
    FileRepository files = new FileRepository(repoDir);
    files.install("fixture.http", "greeter", "1.0", greeter("greeter over http"), Map.of());
    repo = MavenRepositoryServer.start(vertx, repoDir, null, null);
    ferry = PackagedFerry.start(vertx, new JsonObject().put("maven", new JsonObject()
        .put("remoteRepositories", List.of(repo.url("origin")))), Map.of(), List.of());
  }

  @AfterAll
  static void stop() {
    if (ferry != null) ferry.close();
    if (repo != null) repo.close();
    vertx.close().await();
    TestPlatform.deleteTree(work);
  }

  @Test
  void a_dependency_is_fetched_over_http_by_the_shipped_classpath() throws Exception {
    JsonObject d = ferry.deploy(service("over-http", dependency("fixture.http", "greeter", "1.0"), ""), "over-http");
    assertEquals("deployed", d.getString("state"), d.encodePrettily() + "\n" + ferry.tail());
    assertEquals("greeter over http", ferry.viaProxy("over-http", "/").bodyAsString());
    assertTrue(repo.hits("origin") > 0, repo.requests().toString());
    List<String> log = ferry.log(d, "resolve");
    assertTrue(log.stream().anyMatch(l -> l.startsWith("Downloaded fixture.http:greeter:jar:1.0 (")), log.toString());
  }

  static Map<String, String> greeter(String says) {
    return Map.of("fixture.lib.Greeter",
        "package fixture.lib; public class Greeter { public static String greet() { return \"" + says + "\"; } }");
  }

  static String dependency(String groupId, String artifactId, String version) {
    return "<dependency><groupId>" + groupId + "</groupId><artifactId>" + artifactId + "</artifactId><version>" + version
        + "</version></dependency>";
  }

  /** A service tree whose verticle answers {@code Greeter.greet()}, with a pom naming {@code dependencies} and {@code extra} pom content. */
  static Path service(String name, String dependencies, String extra) throws Exception {
    Path dir = Files.createTempDirectory(work, name);
    Files.writeString(dir.resolve("pom.xml"), """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>fixture</groupId>
          <artifactId>%s</artifactId>
          <version>1</version>
          %s
          <dependencies>%s</dependencies>
        </project>
        """.formatted(name, extra, dependencies));
    Path main = dir.resolve("src/main/java/fixture/greet/Main.java");
    Files.createDirectories(main.getParent());
    Files.copy(TestPlatform.FIXTURES.resolve("greeter-v2/src/main/java/fixture/greet/Main.java"), main);
    return dir;
  }
}
