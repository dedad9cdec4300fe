package dev.ferry;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bundled example builds with plain Maven, as the README says (Maven 3.8's default compiler plugin would not). */
class ExamplesTest {

  @Test
  void examples_hello_builds_with_plain_maven() throws Exception {
    Assumptions.assumeTrue(NodeSupport.onPath("mvn"), "mvn is not on the PATH");
    Path copy = Files.createTempDirectory("ferry-example");
    try {
      Path from = Path.of("examples/hello");
      try (Stream<Path> s = Files.walk(from)) {
        for (Path p : s.toList()) {
          Path t = copy.resolve(from.relativize(p).toString());
          if (Files.isDirectory(p)) Files.createDirectories(t);
          else Files.copy(p, t);
        }
      }
      Process mvn = new ProcessBuilder("mvn", "-q", "-B", "package").directory(copy.toFile()).redirectErrorStream(true).start();
      String log = new String(mvn.getInputStream().readAllBytes());
      assertTrue(mvn.waitFor(5, TimeUnit.MINUTES), log);
      assertEquals(0, mvn.exitValue(), log);
      assertTrue(Files.isRegularFile(copy.resolve("target/classes/hello/HelloVerticle.class")), log);
      assertTrue(Files.isRegularFile(copy.resolve("target/hello-1.0.0.jar")), log);
    } finally {
      TestPlatform.deleteTree(copy);
    }
  }
}
