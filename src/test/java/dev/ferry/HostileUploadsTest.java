package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.vertx.core.json.JsonObject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad uploads, each as a real archive through the API: each gets a clear answer (a status, or the
 * deployment's {@code error} naming the problem), and nothing outside the deployment's build dir
 * changes: the test snapshots a sandbox holding the data dir and an {@code outside} dir the
 * archives aim at, before and after.
 */
@Tag("platform")
class HostileUploadsTest {

  static final long MAX_EXTRACTED = 1024 * 1024;
  static final int MAX_ENTRIES = 50;
  static final int MAX_NAME = 200;
  // deleted after the platform stopped
  @TempDir
  static Path sandbox;
  static Path outside;
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("dataDir", sandbox.resolve("data")).with("upload.maxBytes", 64 * 1024)
      .with("extract.maxBytes", MAX_EXTRACTED).with("extract.maxEntries", MAX_ENTRIES).with("extract.maxNameLength", MAX_NAME));

  @BeforeAll
  static void start() throws IOException {
    outside = Files.createDirectories(sandbox.resolve("outside"));
    Files.writeString(outside.resolve("canary"), "untouched");
  }

  /** Every file and directory in the sandbox with its size and content hash, but the ledger's and the runners'. */
  static Map<String, String> snapshot(String exceptBuildOf) throws IOException {
    Map<String, String> files = new TreeMap<>();
    Path data = sandbox.resolve("data");
    try (Stream<Path> all = Files.walk(sandbox)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        String rel = sandbox.relativize(p).toString();
        if (p.startsWith(data.resolve("ledger.db")) || p.getFileName().toString().startsWith("ledger.db")) continue;
        if (exceptBuildOf != null && p.startsWith(data.resolve("builds").resolve(exceptBuildOf))) continue;
        // runner processes (warm ones come and go) keep their sockets and output there: no upload writes it
        if (p.startsWith(data.resolve("runners"))) continue;
        files.put(rel, Files.isSymbolicLink(p) ? "link" : Files.isDirectory(p) ? "dir"
            : Files.size(p) + ":" + Arrays.hashCode(Files.readAllBytes(p)));
      }
    }
    return files;
  }

  /**
   * Asserts the sandbox is as {@code before} (but for {@code exceptBuildOf}'s build dir), allowing
   * a moment for a refused upload's file to be deleted: the answer may come before the delete.
   */
  static void assertUnchanged(Map<String, String> before, String exceptBuildOf) throws IOException {
    long deadline = System.currentTimeMillis() + 5_000;
    Map<String, String> now = snapshot(exceptBuildOf);
    while (!now.equals(before) && System.currentTimeMillis() < deadline) {
      TestPlatform.sleep(20);
      now = snapshot(exceptBuildOf);
    }
    assertEquals(before, now, "the file system outside the build dir changed");
  }

  /** A snapshot once no upload from an earlier test is still being received or deleted. */
  static Map<String, String> settled() throws IOException {
    long deadline = System.currentTimeMillis() + 5_000;
    while (System.currentTimeMillis() < deadline) {
      try (Stream<Path> uploads = Files.list(sandbox.resolve("data/uploads"))) {
        if (uploads.findAny().isEmpty()) break;
      }
      TestPlatform.sleep(20);
    }
    return snapshot(null);
  }

  /**
   * Uploads {@code archive}, expects it accepted and ending in {@code error} at {@code stage} with
   * a message containing each of {@code expected}, and the sandbox unchanged but for the build dir.
   */
  static JsonObject refused(String service, byte[] archive, String stage, String... expected) throws IOException {
    Map<String, String> before = settled();
    HttpResponse<Buffer> r = ferry.upload(service, Buffer.buffer(archive), "application/gzip");
    assertEquals(202, r.statusCode(), r.bodyAsString());
    String id = r.bodyAsJsonObject().getString("id");
    JsonObject d = ferry.awaitFinal(id);
    assertEquals("error", d.getString("state"), d.encodePrettily());
    assertEquals(stage, d.getString("stage"), d.encodePrettily());
    for (String e : expected) assertTrue(d.getString("error").contains(e), "expected '" + e + "' in: " + d.getString("error"));
    assertUnchanged(before, id);
    assertEquals("untouched", Files.readString(outside.resolve("canary")));
    return d;
  }

  /** An entry of the archive under construction. */
  record Entry(TarArchiveEntry header, byte[] content) {
    static Entry file(String name, String content) {
      byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry e = new TarArchiveEntry(name, true);
      e.setSize(bytes.length);
      return new Entry(e, bytes);
    }

    static Entry special(String name, byte type, String linkTarget) {
      TarArchiveEntry e = new TarArchiveEntry(name, type, true);
      if (linkTarget != null) e.setLinkName(linkTarget);
      return new Entry(e, new byte[0]);
    }
  }

  /** A real tar.gz of the hello fixture's source followed by {@code extra} entries. */
  static byte[] archive(int longFileMode, Entry... extra) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
      tar.setLongFileMode(longFileMode);
      List<Entry> entries = new ArrayList<>();
      Path hello = TestPlatform.FIXTURES.resolve("hello");
      try (Stream<Path> files = Files.walk(hello)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          entries.add(Entry.file(hello.relativize(f).toString(), Files.readString(f)));
        }
      }
      entries.addAll(List.of(extra));
      for (Entry e : entries) {
        tar.putArchiveEntry(e.header());
        tar.write(e.content());
        tar.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  static byte[] archive(Entry... extra) throws IOException {
    return archive(TarArchiveOutputStream.LONGFILE_GNU, extra);
  }

  @Test
  void entries_that_climb_out_are_absolute_or_normalize_outside_are_refused() throws IOException {
    refused("climb", archive(Entry.file("../../../outside/evil", "x")), "build", "'../../../outside/evil'", "leaves the build directory");
    String absolute = outside.resolve("abs").toString();
    refused("absolute", archive(Entry.file(absolute, "x")), "build", "'" + absolute + "'", "absolute path");
    refused("normalize", archive(Entry.file("src/../../../../outside/n", "x")), "build", "'src/../../../../outside/n'", "leaves the build directory");
    refused("backslash", archive(Entry.file("..\\..\\outside\\b", "x")), "build", "forbidden character");
  }

  @Test
  void symbolic_and_hard_links_inside_or_out_are_refused_even_when_a_file_would_be_written_through_them() throws IOException {
    refused("symlink-out", archive(Entry.special("link", TarConstants.LF_SYMLINK, outside.toString()), Entry.file("link/evil", "x")),
        "build", "'link'", "symbolic link");
    refused("symlink-in", archive(Entry.special("src/alias", TarConstants.LF_SYMLINK, "main")), "build", "'src/alias'", "symbolic link");
    refused("hardlink-out", archive(Entry.special("hard", TarConstants.LF_LINK, outside.resolve("canary").toString())),
        "build", "'hard'", "hard link");
    refused("hardlink-in", archive(Entry.special("src/hard", TarConstants.LF_LINK, "src/main/java/fixture/hello/Hello.java")),
        "build", "'src/hard'", "hard link");
  }

  @Test
  void device_and_fifo_entries_are_refused() throws IOException {
    refused("chardev", archive(Entry.special("src/tty", TarConstants.LF_CHR, null)), "build", "'src/tty'", "character device");
    refused("blockdev", archive(Entry.special("src/disk", TarConstants.LF_BLK, null)), "build", "'src/disk'", "block device");
    refused("fifo", archive(Entry.special("src/pipe", TarConstants.LF_FIFO, null)), "build", "'src/pipe'", "FIFO");
  }

  @Test
  void a_gzip_bomb_too_many_entries_and_over_long_names_are_refused_at_their_limits() throws IOException {
    // 8 MiB of zeros gzip to a few KiB: under the upload limit, far over the extraction limit
    byte[] bomb = archive(new Entry(sized("src/main/resources/zeros.bin", 8 * 1024 * 1024), new byte[8 * 1024 * 1024]));
    assertTrue(bomb.length < 64 * 1024, "the bomb is a small upload: " + bomb.length);
    refused("bomb", bomb, "build", "expands past the limit of " + MAX_EXTRACTED + " bytes");
    Entry[] many = new Entry[MAX_ENTRIES];
    for (int i = 0; i < many.length; i++) many[i] = Entry.file("src/main/resources/f" + i, "x");
    refused("many", archive(many), "build", "more than " + MAX_ENTRIES + " entries");
    String longName = "src/main/resources/" + "n".repeat(MAX_NAME);
    refused("long-gnu", archive(TarArchiveOutputStream.LONGFILE_GNU, Entry.file(longName, "x")), "build", "longer than " + MAX_NAME);
    refused("long-pax", archive(TarArchiveOutputStream.LONGFILE_POSIX, Entry.file(longName, "x")), "build", "longer than " + MAX_NAME);
  }

  private static TarArchiveEntry sized(String name, long size) {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(size);
    return e;
  }

  @Test
  void a_truncated_archive_is_refused() throws IOException {
    byte[] whole = archive(Entry.file("src/main/resources/r.txt", "x".repeat(5000)));
    refused("truncated", Arrays.copyOf(whole, whole.length / 2), "build", "truncated");
  }

  @Test
  void a_malformed_pom_is_refused_naming_it() throws IOException {
    refused("badpom", archive(Entry.file("pom.xml", "<project><modelVersion>4.0.0</modelVersion><properties>")), "build", "pom.xml");
  }

  @Test
  void names_that_are_not_dns_labels_or_are_reserved_answer_400() throws IOException {
    Map<String, String> before = settled();
    Path hello = TestPlatform.pack("hello");
    for (String name : List.of("Hello", "-x", "x-", "a_b", "a.b", "x".repeat(64), "api", "www", "ferry", "admin")) {
      HttpResponse<Buffer> r = ferry.upload(name, hello);
      assertEquals(400, r.statusCode(), name);
      String expected = name.length() <= 5 && name.matches("[a-z]+") ? "reserved" : "DNS label";
      assertTrue(r.bodyAsJsonObject().getString("message").contains(expected), name + ": " + r.bodyAsString());
    }
    assertUnchanged(before, null);
  }

  @Test
  void a_body_over_the_limit_answers_413_and_leaves_no_file() throws IOException {
    Map<String, String> before = settled();
    byte[] big = new byte[200 * 1024];
    new java.util.Random(1).nextBytes(big);
    HttpResponse<Buffer> r = ferry.upload("big", Buffer.buffer(big), "application/gzip");
    assertEquals(413, r.statusCode());
    assertEquals("too_large", r.bodyAsJsonObject().getString("error"));
    assertUnchanged(before, null);
  }

  @Test
  void a_chunked_body_over_the_limit_answers_413_while_streaming() throws IOException {
    Map<String, String> before = settled();
    byte[] chunk = new byte[16 * 1024];
    var stream = new io.vertx.core.streams.ReadStream<Buffer>() {
      int left = 20;
      io.vertx.core.Handler<Buffer> handler;
      io.vertx.core.Handler<Void> end;
      public io.vertx.core.streams.ReadStream<Buffer> exceptionHandler(io.vertx.core.Handler<Throwable> h) { return this; }
      public io.vertx.core.streams.ReadStream<Buffer> handler(io.vertx.core.Handler<Buffer> h) { handler = h; return this; }
      public io.vertx.core.streams.ReadStream<Buffer> pause() { return this; }
      public io.vertx.core.streams.ReadStream<Buffer> resume() { return fetch(Long.MAX_VALUE); }
      public io.vertx.core.streams.ReadStream<Buffer> fetch(long n) {
        while (left > 0 && handler != null) { left--; handler.handle(Buffer.buffer(chunk)); }
        if (left == 0 && end != null) { left = -1; end.handle(null); }
        return this;
      }
      public io.vertx.core.streams.ReadStream<Buffer> endHandler(io.vertx.core.Handler<Void> h) { end = h; return this; }
    };
    HttpResponse<Buffer> r;
    try {
      r = ferry.http.post(ferry.apiPort(), "127.0.0.1", "/api/v1/services/streamed/deployments")
          .putHeader("content-type", "application/gzip").sendStream(stream).await();
    } catch (RuntimeException closed) {
      // the server may close the connection before the client reads the answer
      r = null;
    }
    if (r != null) assertEquals(413, r.statusCode());
    assertUnchanged(before, null);
  }

  @Test
  void an_empty_body_answers_400() throws IOException {
    Map<String, String> before = settled();
    HttpResponse<Buffer> r = ferry.upload("empty", Buffer.buffer(), "application/gzip");
    assertEquals(400, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("message").contains("empty"));
    assertUnchanged(before, null);
  }

  @Test
  void a_wrong_content_type_answers_415() throws IOException {
    Map<String, String> before = settled();
    HttpResponse<Buffer> r = ferry.upload("typed", Buffer.buffer("{}"), "application/json");
    assertEquals(415, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("message").contains("application/gzip"), r.bodyAsString());
    assertUnchanged(before, null);
  }

  @Test
  void a_body_that_is_not_gzip_ends_in_error() throws IOException {
    refused("garbage", "this is not an archive".getBytes(StandardCharsets.UTF_8), "build", "not gzip");
  }

  @Test
  void an_archive_without_src_main_java_ends_in_error() throws IOException {
    refused("nosrc", Files.readAllBytes(TestPlatform.pack("rest/src/main/resources")), "build", "no src/main/java");
  }
}
