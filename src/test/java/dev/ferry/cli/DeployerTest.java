package dev.ferry.cli;

import dev.ferry.TestPlatform;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry deploy DIR}: the front door, end to end against a running platform. */
@Tag("platform")
class DeployerTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  private record Run(int code, String out, String err) {
  }

  private static Run deploy(Path dir, String name) {
    return deployTo("http://127.0.0.1:" + ferry.apiPort(), dir, name);
  }

  private static Run deployTo(String server, Path dir, String name) {
    java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
    try (FerryClient client = new FerryClient(server, ferry.platform.config().token())) {
      int code = new Deployer(client, new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), false, false).deploy(dir, name);
      return new Run(code, out.toString(), err.toString());
    }
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
    assertTrue(r.out.contains("Broken.java:9: error: incompatible types"), r.out);
    assertTrue(r.err.contains("ended in error (build): Compilation failed with 1 error"), r.err);
  }

  @Test
  void an_unreachable_server_is_a_clear_error() {
    Run r = deployTo("http://127.0.0.1:1", Path.of("examples/hello"), null);
    assertEquals(1, r.code);
    assertTrue(r.err.contains("ferry deploy:"), r.err);
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
