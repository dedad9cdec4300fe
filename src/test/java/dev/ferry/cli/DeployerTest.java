package dev.ferry.cli;

import dev.ferry.TestPlatform;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry deploy DIR}: the front door, end to end against a running platform. */
class DeployerTest {

  static TestPlatform ferry;

  @BeforeAll
  static void start() {
    ferry = TestPlatform.start();
  }

  @AfterAll
  static void stop() {
    ferry.close();
  }

  private record Run(int code, String out, String err) {
  }

  private static Run deploy(Path dir, String name) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    int code = new Deployer("http://127.0.0.1:" + ferry.apiPort(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)).deploy(dir, name);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void deploying_the_bundled_example_prints_its_url() {
    Run r = deploy(Path.of("examples/hello"), null);
    assertEquals(0, r.code, r.out + r.err);
    assertTrue(r.out.contains("Deployed hello: http://hello.localhost:" + ferry.proxyPort() + "/"), r.out);
    assertEquals("Hello from Ferry!", ferry.viaProxy("hello", "/").bodyAsJsonObject().getString("message"));
  }

  @Test
  void a_failing_deploy_prints_the_error_and_exits_non_zero() {
    Run r = deploy(TestPlatform.FIXTURES.resolve("compile-error"), "broken-cli");
    assertEquals(1, r.code);
    assertTrue(r.err.contains("Broken.java:9"), r.err);
  }

  @Test
  void an_unreachable_server_is_a_clear_error() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Deployer("http://127.0.0.1:1", new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8))
        .deploy(Path.of("examples/hello"), null);
    assertEquals(1, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("ferry deploy:"));
  }

  @Test
  void packing_skips_target_and_git() throws Exception {
    Path dir = Files.createTempDirectory("svc");
    try {
      Files.createDirectories(dir.resolve("src/main/java/a"));
      Files.writeString(dir.resolve("src/main/java/a/A.java"), "package a; class A {}");
      Files.createDirectories(dir.resolve("target/classes"));
      Files.writeString(dir.resolve("target/classes/A.class"), "x");
      Files.createDirectories(dir.resolve(".git"));
      Files.writeString(dir.resolve(".git/HEAD"), "ref");
      Path out = Files.createTempFile("packed", ".tar.gz");
      assertEquals(1, Archives.pack(dir, out));
      List<String> names = new ArrayList<>();
      try (InputStream in = new GzipCompressorInputStream(Files.newInputStream(out));
           TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) names.add(e.getName());
      }
      assertEquals(List.of("src/main/java/a/A.java"), names);
      Files.delete(out);
    } finally {
      TestPlatform.deleteTree(dir);
    }
  }

  @Test
  void the_default_name_is_the_directory_as_a_dns_label() {
    assertEquals("my-service", Deployer.defaultName(Path.of("/x/My_Service")));
  }
}
