package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the upload endpoint refuses, and that it writes nothing when it does. */
class UploadTest {

  static TestPlatform ferry;

  @BeforeAll
  static void start() {
    ferry = TestPlatform.start(c -> c.setUploadMaxBytes(64 * 1024));
  }

  @AfterAll
  static void stop() {
    ferry.close();
  }

  private static long uploadsOnDisk() throws IOException {
    try (Stream<java.nio.file.Path> s = Files.list(ferry.platform.dataDir().uploads())) {
      return s.count();
    }
  }

  @Test
  void invalid_service_names_answer_400() {
    for (String bad : new String[] {"Hello", "-x", "x-", "a_b", "a.b", "x".repeat(64)}) {
      HttpResponse<Buffer> r = ferry.upload(bad, TestPlatform.pack("hello"));
      assertEquals(400, r.statusCode(), bad);
      assertTrue(r.bodyAsJsonObject().getString("message").contains("DNS label"), r.bodyAsString());
    }
  }

  @Test
  void a_body_over_the_limit_answers_413_and_leaves_no_file() throws IOException {
    byte[] big = new byte[200 * 1024];
    new java.util.Random(1).nextBytes(big);
    HttpResponse<Buffer> r = ferry.upload("big", Buffer.buffer(big), "application/gzip");
    assertEquals(413, r.statusCode());
    assertEquals("too_large", r.bodyAsJsonObject().getString("error"));
    TestPlatform.sleep(200);
    assertEquals(0, uploadsOnDisk());
  }

  @Test
  void a_chunked_body_over_the_limit_answers_413_while_streaming() throws IOException {
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
    TestPlatform.sleep(200);
    assertEquals(0, uploadsOnDisk());
  }

  @Test
  void an_empty_body_answers_400() {
    HttpResponse<Buffer> r = ferry.upload("empty", Buffer.buffer(), "application/gzip");
    assertEquals(400, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("message").contains("empty"));
  }

  @Test
  void a_wrong_content_type_answers_415() {
    HttpResponse<Buffer> r = ferry.upload("typed", Buffer.buffer("{}"), "application/json");
    assertEquals(415, r.statusCode());
  }

  @Test
  void a_body_that_is_not_gzip_ends_in_error() {
    HttpResponse<Buffer> r = ferry.upload("garbage", Buffer.buffer("this is not an archive"), "application/gzip");
    assertEquals(202, r.statusCode());
    var d = ferry.awaitFinal(r.bodyAsJsonObject().getString("id"));
    assertEquals("error", d.getString("state"));
    assertTrue(d.getString("error").contains("not gzip"), d.getString("error"));
  }

  @Test
  void an_archive_without_src_main_java_ends_in_error() {
    HttpResponse<Buffer> r = ferry.upload("nosrc", TestPlatform.pack("rest/src/main/resources"));
    var d = ferry.awaitFinal(r.bodyAsJsonObject().getString("id"));
    assertEquals("error", d.getString("state"));
    assertTrue(d.getString("error").contains("no src/main/java"), d.getString("error"));
  }
}
