package dev.ferry.build;

import dev.ferry.TestPlatform;
import dev.ferry.deployment.DeploymentLog.Level;
import dev.ferry.deployment.StageException;
import eu.maveniverse.maven.mima.context.ContextOverrides;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The resolver on its own: failures that name what is missing, and Maven Central where reachable. */
class DependencyResolverTest {

  Path dir;
  final List<String> lines = new ArrayList<>();
  final DependencyResolver.Progress progress = (level, line) -> lines.add(level + " " + line);

  @BeforeEach
  void tempDir() throws IOException {
    dir = Files.createTempDirectory("ferry-resolver");
  }

  @AfterEach
  void clean() {
    TestPlatform.deleteTree(dir);
  }

  @Test
  void offline_with_an_empty_local_repository_names_the_missing_artifact() {
    try (DependencyResolver r = new DependencyResolver(dir.resolve("repo"), List.of(DependencyResolver.CENTRAL), true, dir.resolve("cache"))) {
      StageException e = assertThrows(StageException.class, () -> r.resolve(TestPlatform.FIXTURES.resolve("greeter-v2"), progress));
      assertTrue(e.getMessage().contains("fixture.lib:greeter") && e.getMessage().contains("2.0"), e.getMessage());
      assertTrue(e.getMessage().contains("offline"), e.getMessage());
    }
  }

  @Test
  void an_unreachable_repository_names_the_artifact_and_the_repository() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + closed + "/maven2/";
    try (DependencyResolver r = new DependencyResolver(dir.resolve("repo"), List.of(url), false, dir.resolve("cache"))) {
      StageException e = assertThrows(StageException.class, () -> r.resolve(TestPlatform.FIXTURES.resolve("greeter-v2"), progress));
      assertTrue(e.getMessage().contains("fixture.lib:greeter") && e.getMessage().contains("2.0"), e.getMessage());
      assertTrue(e.getMessage().contains("127.0.0.1:" + closed), e.getMessage());
    }
  }

  @Test
  void resolves_a_template_engine_from_maven_central_when_it_is_reachable() throws StageException {
    URI central = URI.create(ContextOverrides.CENTRAL.getUrl());
    Assumptions.assumeTrue(reachable(central), "skipped: Maven Central is not reachable from here");
    try (DependencyResolver r = new DependencyResolver(dir.resolve("repo"), List.of(DependencyResolver.CENTRAL), false, dir.resolve("cache"))) {
      Resolution res = r.resolve(TestPlatform.FIXTURES.resolve("templates"), progress);
      assertTrue(res.bundled().stream().anyMatch(p -> p.getFileName().toString().startsWith("freemarker-")), res.bundled().toString());
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(Level.INFO + " Downloaded")), lines.toString());
      assertEquals(1, r.resolutions());
      r.resolve(TestPlatform.FIXTURES.resolve("templates"), progress);
      assertEquals(1, r.resolutions(), "the second resolution of the same pom comes from the cache");
    }
  }

  private static boolean reachable(URI uri) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 443), 2_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
