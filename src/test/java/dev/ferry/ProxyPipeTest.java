package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy as a pipe for HTTP/1.1: bodies both ways (lengths and chunks), HEAD, pipelined requests
 * each routed by its own Host, connections to services kept and reused, requests that could be read
 * two ways refused, a service that drops its connection mid-answer. Over raw sockets where the bytes
 * matter.
 */
@Tag("platform")
class ProxyPipeTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  @BeforeAll
  static void deployTwoPipes() {
    assertEquals("deployed", ferry.deploy("pipe", "pipe").getString("state"));
    assertEquals("deployed", ferry.deploy("pipe", "other").getString("state"));
  }

  /** A response read off a socket. */
  record Response(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private static Socket connect() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), ferry.proxyPort());
    s.setSoTimeout(10_000);
    return s;
  }

  private static void send(Socket s, String raw) throws IOException {
    s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  /** Reads one response: its head, then a body by Content-Length or chunks (none for HEAD). */
  private static Response read(InputStream in, boolean head) throws IOException {
    String statusLine = line(in);
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(in); !l.isEmpty(); l = line(in)) {
      int c = l.indexOf(':');
      headers.put(l.substring(0, c).trim().toLowerCase(), l.substring(c + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (!head && "chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      for (int n = Integer.parseInt(line(in).split(";")[0], 16); n > 0; n = Integer.parseInt(line(in).split(";")[0], 16)) {
        body.write(in.readNBytes(n));
        line(in);
      }
      while (!line(in).isEmpty()) {
        // trailers
      }
    } else if (!head && headers.containsKey("content-length")) {
      body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    }
    return new Response(status, headers, body.toByteArray());
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) throw new IOException("connection closed after: " + sb);
      if (c != '\r') sb.append((char) c);
    }
    return sb.toString();
  }

  /** Whether the proxy closed the connection (reads EOF within the socket's timeout). */
  private static boolean closedByPeer(Socket s) throws IOException {
    try {
      return s.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  @Test
  void a_request_body_reaches_the_service_and_a_large_answer_comes_back_whole() {
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
    HttpResponse<Buffer> r = ferry.http.post(ferry.proxyPort(), "127.0.0.1", "/echo").putHeader("Host", "pipe.localhost")
        .sendBuffer(Buffer.buffer(big)).await();
    assertEquals(200, r.statusCode());
    assertEquals("POST", r.getHeader("x-method"));
    assertArrayEquals(big, r.body().getBytes());
    HttpResponse<Buffer> large = ferry.viaProxy("pipe", "/big?kb=4096");
    assertEquals(4096 * 1024, large.body().length());
    assertEquals('a' + (4096 * 1024 - 1) % 26, large.body().getByte(4096 * 1024 - 1));
  }

  @Test
  void a_slow_reader_of_a_large_answer_holds_the_service_back_and_the_next_request_is_served() throws Exception {
    try (Socket s = connect()) {
      s.setReceiveBufferSize(16 * 1024);
      send(s, "GET /big?kb=16384 HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n");
      // not read for a while: the proxy stops reading the service until the client catches up
      Thread.sleep(500);
      Response r = read(s.getInputStream(), false);
      assertEquals(16384 * 1024, r.body().length);
      // the same connection (so the same proxy event loop, and its kept connection to the service)
      send(s, "GET /next HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n");
      assertEquals("pipe pipe GET /next", read(s.getInputStream(), false).text());
    }
  }

  @Test
  void a_chunked_request_body_with_trailers_is_forwarded_and_the_connection_goes_on() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: pipe.localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n");
      Response r = read(s.getInputStream(), false);
      assertEquals(200, r.status());
      assertEquals("hello, world", r.text());
      send(s, "GET /again HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n");
      assertEquals("pipe pipe GET /again", read(s.getInputStream(), false).text());
    }
  }

  @Test
  void a_chunked_answer_passes_through_unchanged() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /chunked?n=40 HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n");
      Response r = read(s.getInputStream(), false);
      assertEquals("chunked", r.headers().get("transfer-encoding"));
      assertTrue(r.text().startsWith("chunk 0\nchunk 1\n") && r.text().endsWith("chunk 39\n"), r.text());
    }
  }

  @Test
  void pipelined_requests_are_answered_in_order_each_routed_by_its_own_host() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /one HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n"
          + "POST /echo HTTP/1.1\r\nHost: other.localhost\r\nContent-Length: 4\r\n\r\nbody"
          + "HEAD /three HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n"
          + "GET /four HTTP/1.1\r\nHost: other.localhost:8080\r\n\r\n");
      InputStream in = s.getInputStream();
      assertEquals("pipe pipe GET /one", read(in, false).text());
      assertEquals("body", read(in, false).text());
      // HEAD: a head alone, whatever length it announces; the next answer follows right after it
      assertEquals(200, read(in, true).status());
      assertEquals("pipe other GET /four", read(in, false).text());
    }
  }

  @Test
  void connections_to_a_service_are_kept_and_reused_between_requests() {
    long before = ferry.viaProxy("pipe", "/headers").bodyAsJsonObject().getLong("connections");
    for (int i = 0; i < 50; i++) assertEquals(200, ferry.viaProxy("pipe", "/").statusCode());
    long after = ferry.viaProxy("pipe", "/headers").bodyAsJsonObject().getLong("connections");
    // sequential requests, each on a new client connection: the proxy's side stays open (one per proxy event loop at most)
    assertTrue(after - before <= ferry.platform.config().proxy().effectiveInstances(), before + " → " + after);
  }

  @Test
  void hop_by_hop_headers_stay_with_the_proxy_and_forwarded_ones_cannot_be_forged() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /headers HTTP/1.1\r\nHost: pipe.localhost\r\nConnection: keep-alive, X-Private\r\nKeep-Alive: timeout=5\r\n"
          + "Proxy-Connection: keep-alive\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n"
          + "X-Forwarded-For: 203.0.113.7\r\nX-Custom: kept\r\n\r\n");
      JsonObject h = new JsonObject(read(s.getInputStream(), false).text());
      assertNull(h.getString("connection"));
      assertNull(h.getString("keep-alive"));
      assertNull(h.getString("proxy-connection"));
      assertEquals("pipe.localhost", h.getString("x-forwarded-host"));
      assertEquals("http", h.getString("x-forwarded-proto"));
      // a client's own X-Forwarded-For is replaced (only a trusted proxy's is kept: ServerHardeningTest)
      assertEquals("127.0.0.1", h.getString("x-forwarded-for"));
      assertEquals("kept", h.getString("x-custom"));
      assertEquals("pipe.localhost", h.getString("host"));
    }
  }

  @Test
  void requests_that_could_be_read_two_ways_are_refused_and_the_connection_closed() throws Exception {
    String[] ambiguous = {
        "POST /echo HTTP/1.1\r\nHost: pipe.localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: pipe.localhost\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nbody!",
        "GET / HTTP/1.1\r\nHost: pipe.localhost\r\nHost: other.localhost\r\n\r\n",
        "GET / HTTP/1.1\nHost: pipe.localhost\n\n",
        "GET / HTTP/1.1\r\nHost : pipe.localhost\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: pipe.localhost\r\nX-Folded: a\r\n b\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: pipe.localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    };
    for (String raw : ambiguous) {
      try (Socket s = connect()) {
        send(s, raw);
        Response r = read(s.getInputStream(), false);
        assertTrue(r.status() == 400 || r.status() == 501, r.status() + " for " + raw);
        assertEquals("close", r.headers().get("connection"), raw);
        assertTrue(closedByPeer(s), "closed after refusing " + raw);
      }
    }
  }

  @Test
  void a_head_too_large_is_refused_431() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET / HTTP/1.1\r\nHost: pipe.localhost\r\nX-Big: " + "x".repeat(20_000) + "\r\n\r\n");
      assertEquals(431, read(s.getInputStream(), false).status());
    }
  }

  @Test
  void an_answer_cut_short_by_the_service_closes_the_client_connection_and_the_next_request_is_served() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /cut HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n");
      InputStream in = s.getInputStream();
      String head = line(in);
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      byte[] rest = in.readAllBytes();
      assertFalse(new String(rest, StandardCharsets.UTF_8).length() >= 1000, "fewer bytes than announced, then EOF");
    }
    assertEquals(200, ferry.viaProxy("pipe", "/").statusCode());
  }

  @Test
  void a_client_that_leaves_mid_request_does_not_leave_the_request_in_flight() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /slow?ms=300 HTTP/1.1\r\nHost: pipe.localhost\r\n\r\n");
      Thread.sleep(50);
    }
    long deadline = System.currentTimeMillis() + 5_000;
    while (ferry.platform.routes().get("pipe").inFlight() != 0 && System.currentTimeMillis() < deadline) Thread.sleep(10);
    assertEquals(0, ferry.platform.routes().get("pipe").inFlight());
    assertEquals("slow", ferry.viaProxy("pipe", "/slow?ms=1").bodyAsString());
  }

  @Test
  void an_http_1_0_request_is_answered_and_closed() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /ten HTTP/1.0\r\nHost: pipe.localhost\r\n\r\n");
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(all.startsWith("HTTP/1.0 200") || all.startsWith("HTTP/1.1 200"), all);
      assertTrue(all.endsWith("pipe pipe GET /ten"), all);
    }
  }
}
