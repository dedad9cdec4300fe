package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** An unwritable or full data dir: a clear error at start or on upload, and a ledger that stays whole. */
@Tag("platform")
class DiskTest {

  @Test
  void a_data_dir_that_is_not_a_directory_stops_the_start_with_a_clear_error() throws IOException {
    Path file = Files.createTempFile("ferry-not-a-dir", "");
    Vertx vertx = Vertx.vertx();
    try {
      Config config = Config.DEFAULTS.with("api.port", 0).with("proxy.port", 0).with("dataDir", file);
      Exception e = assertThrows(Exception.class, () -> Platform.start(vertx, config).await());
      assertTrue(e.getMessage().contains("Data dir " + file.toAbsolutePath() + " is not writable"), e.getMessage());
    } finally {
      vertx.close().await();
      Files.deleteIfExists(file);
    }
  }

  @Test
  void a_ledger_that_cannot_be_opened_stops_the_start_with_a_clear_error() throws IOException {
    Path dir = Files.createTempDirectory("ferry-bad-ledger");
    Files.createDirectories(new DataDir(dir).ledger());
    Vertx vertx = Vertx.vertx();
    try {
      Config config = Config.DEFAULTS.with("api.port", 0).with("proxy.port", 0).with("dataDir", dir);
      Exception e = assertThrows(Exception.class, () -> Platform.start(vertx, config).await());
      assertTrue(e.getMessage().contains("Cannot open the ledger"), e.getMessage());
    } finally {
      vertx.close().await();
      TestPlatform.deleteTree(dir);
    }
  }

  @Test
  void a_full_disk_answers_507_on_upload_and_leaves_the_ledger_whole() throws Exception {
    Path mount = Files.createTempDirectory("ferry-full");
    // a real small file system to fill; needs root (as on the project's machines)
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount.toString()).redirectErrorStream(true).start();
    boolean mounted = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    assumeTrue(mounted, "cannot mount a tmpfs here");
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", mount.resolve("data")))) {
      String before = ferry.deploy("hello", "full").getString("id");
      Path filler = mount.resolve("filler");
      try (OutputStream out = Files.newOutputStream(filler)) {
        byte[] block = new byte[64 * 1024];
        while (true) out.write(block);
      } catch (IOException diskFull) {
        // the disk is full now
      }
      HttpResponse<Buffer> r;
      try (LogCapture uploads = LogCapture.ofAll()) {
        r = ferry.upload("full", TestPlatform.pack("rest"));
        // its one chunk's write fails after the body ended: refused, and not queued for a build all the same
        assertEquals(0, uploads.count(null, "Queued", " of full "), "an upload answered 507 was queued: " + uploads);
      }
      assertEquals(507, r.statusCode(), r.bodyAsString());
      assertEquals("insufficient_storage", r.bodyAsJsonObject().getString("error"));
      assertEquals(200, ferry.viaProxy("full", "/").statusCode());

      Files.delete(filler);
      String after = ferry.deploy("rest", "full").getString("id");
      assertEquals("deployed", ferry.awaitFinal(after).getString("state"));
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + ferry.platform.dataDir().ledger());
           ResultSet rs = c.createStatement().executeQuery("PRAGMA integrity_check")) {
        rs.next();
        assertEquals("ok", rs.getString(1));
      }
      assertEquals(2, ferry.platform.ledger().deployments("full").size());
      assertEquals(before, ferry.platform.ledger().deployments("full").get(1).id());
    } finally {
      new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
      Files.deleteIfExists(mount);
    }
  }
}
