package dev.ferry;

import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The API and the proxy close what would hold their connections: no complete request head within
 * {@code server.headerTimeoutMs} (nothing sent, or a head trickled a byte at a time), nothing in
 * flight for {@code server.idleTimeoutMs} (a quiet WebSocket excepted), more than
 * {@code server.maxConnectionsPerClient} from one address; an upload that stalls is cut. The
 * proxy refuses a second Host and replaces a client's X-Forwarded-For unless it is a trusted proxy.
 */
@Tag("platform")
class ServerHardeningTest {

  static final long HEADER_MS = 1_000, IDLE_MS = 2_500, STALL_MS = 1_500;
  static final int PER_CLIENT = 20;
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("server.headerTimeoutMs", HEADER_MS).with("server.idleTimeoutMs", IDLE_MS)
      .with("server.maxConnectionsPerClient", PER_CLIENT).with("upload.stallTimeoutMs", STALL_MS)
      .with("server.trustedProxies", List.of("127.0.0.3")));

  @BeforeAll
  static void deployEcho() {
    assertEquals("deployed", ferry.deploy("hello", "echo").getString("state"));
  }

  @Test
  void a_connection_that_sends_nothing_or_trickles_its_head_is_closed_after_the_header_timeout_on_both_ports() throws Exception {
    for (int port : new int[] {ferry.apiPort(), ferry.proxyPort()}) {
      try (Socket silent = connect("127.0.0.1", port); Socket trickle = connect("127.0.0.1", port)) {
        long t0 = System.nanoTime();
        OutputStream out = trickle.getOutputStream();
        byte[] head = "GET / HTTP/1.1\r\nHost: echo.localhost\r\nX-Slow: 1".getBytes(StandardCharsets.US_ASCII);
        boolean cut = false;
        // a byte every 100 ms: never idle, never a complete head
        for (int i = 0; i < head.length * 4 && !cut; i++) {
          try {
            out.write(head[i % head.length]);
            out.flush();
          } catch (IOException closed) {
            cut = true;
          }
          Thread.sleep(100);
          if ((System.nanoTime() - t0) / 1_000_000 > HEADER_MS + 3_000) break;
        }
        assertTrue(cut || closedWithin(trickle, 1_000), "the trickling head was cut on port " + port);
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs >= HEADER_MS - 100 && tookMs < HEADER_MS + 3_000, "cut after " + tookMs + " ms");
        assertTrue(closedWithin(silent, 1_000), "the silent connection was closed on port " + port);
      }
    }
  }

  @Test
  void an_idle_keep_alive_connection_stays_past_the_header_timeout_and_is_closed_after_the_idle_timeout() throws Exception {
    try (Socket s = connect("127.0.0.1", ferry.proxyPort())) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: echo.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readResponse(s).startsWith("HTTP/1.1 200"));
      long t0 = System.nanoTime();
      Thread.sleep(HEADER_MS + 500);
      // still open after the header timeout: a second request on it is answered
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: echo.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readResponse(s).startsWith("HTTP/1.1 200"));
      assertTrue(closedWithin(s, IDLE_MS + 2_000), "closed after the idle timeout");
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(tookMs >= IDLE_MS, "not before the idle timeout: " + tookMs + " ms");
    }
  }

  @Test
  void a_quiet_websocket_outlives_the_idle_timeout() {
    WebSocket ws = ferry.vertx.createWebSocketClient().connect(new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(ferry.proxyPort()).setURI("/ws").addHeader("Host", "echo.localhost")).await();
    try {
      TestPlatform.sleep(IDLE_MS + 1_500);
      assertFalse(ws.isClosed(), "an upgraded connection is not an idle HTTP one");
      java.util.concurrent.CompletableFuture<String> echo = new java.util.concurrent.CompletableFuture<>();
      ws.textMessageHandler(echo::complete);
      ws.writeTextMessage("still here").await();
      assertEquals("echo:still here", echo.orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).join());
    } finally {
      ws.close();
    }
  }

  @Test
  void one_client_address_holds_at_most_its_cap_and_another_address_is_not_affected() throws Exception {
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < PER_CLIENT; i++) {
        Socket s = connect("127.0.0.2", ferry.proxyPort());
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: echo.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(readResponse(s).startsWith("HTTP/1.1 200"));
        held.add(s);
      }
      try (Socket over = connect("127.0.0.2", ferry.proxyPort())) {
        assertTrue(closedWithin(over, 1_000), "the connection past the cap is closed at once");
      }
      // another client is served meanwhile, as is a trusted proxy past the cap
      assertEquals(200, ferry.viaProxy("echo", "/").statusCode());
      List<Socket> proxies = new ArrayList<>();
      try {
        for (int i = 0; i < PER_CLIENT + 5; i++) {
          Socket s = connect("127.0.0.3", ferry.proxyPort());
          proxies.add(s);
          s.getOutputStream().write("GET / HTTP/1.1\r\nHost: echo.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          assertTrue(readResponse(s).startsWith("HTTP/1.1 200"), "trusted proxy connection " + i);
        }
      } finally {
        for (Socket s : proxies) s.close();
      }
    } finally {
      for (Socket s : held) s.close();
    }
    // the count is given back as connections close
    TestPlatform.sleep(200);
    try (Socket again = connect("127.0.0.2", ferry.proxyPort())) {
      again.getOutputStream().write("GET / HTTP/1.1\r\nHost: echo.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readResponse(again).startsWith("HTTP/1.1 200"));
    }
  }

  @Test
  void a_second_host_header_is_400_and_never_reaches_a_service() throws Exception {
    try (Socket s = connect("127.0.0.1", ferry.proxyPort())) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: echo.localhost\r\nHost: other.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String resp = readResponse(s);
      assertTrue(resp.startsWith("HTTP/1.1 400"), resp);
      assertTrue(resp.contains("more than one Host"), resp);
    }
  }

  @Test
  void a_clients_x_forwarded_for_is_replaced_and_a_trusted_proxys_is_appended_to() throws Exception {
    JsonObject direct = answer("127.0.0.1", "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n");
    assertEquals("127.0.0.1", direct.getString("xForwardedFor"), "a client cannot pose as another");
    assertEquals("http", direct.getString("xForwardedProto"));
    JsonObject viaTrusted = answer("127.0.0.3", "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n");
    assertEquals("203.0.113.9, 127.0.0.3", viaTrusted.getString("xForwardedFor"));
    assertEquals("https", viaTrusted.getString("xForwardedProto"), "a trusted proxy says how its client came");
  }

  @Test
  void an_upload_that_stalls_is_cut_its_file_deleted_and_its_queue_place_freed() throws Exception {
    try (Socket s = connect("127.0.0.1", ferry.apiPort())) {
      s.getOutputStream().write(("POST /api/v1/services/stalled/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
          + TestPlatform.TOKEN + "\r\nContent-Type: application/gzip\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(new byte[1000]);
      s.getOutputStream().flush();
      TestPlatform.sleep(300);
      assertEquals(1, uploads(), "the partial upload is on disk");
      long t0 = System.nanoTime();
      String resp = readResponse(s);
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(resp.startsWith("HTTP/1.1 408"), resp);
      assertTrue(resp.contains("upload.stallTimeoutMs"), resp);
      assertTrue(tookMs < STALL_MS + 2_000, "cut after " + tookMs + " ms");
      assertTrue(closedWithin(s, 1_000));
    }
    long deadline = System.currentTimeMillis() + 5_000;
    while (uploads() > 0 && System.currentTimeMillis() < deadline) TestPlatform.sleep(20);
    assertEquals(0, uploads(), "its partial file is deleted");
    assertEquals("deployed", ferry.deploy("hello", "after-stall").getString("state"));
  }

  @Test
  void info_says_what_confines_services_here_their_limits_and_the_servers_rules() {
    JsonObject info = ferry.api(io.vertx.core.http.HttpMethod.GET, "/api/v1/info").bodyAsJsonObject();
    JsonObject sandbox = info.getJsonObject("sandbox");
    assertEquals(TestPlatform.SANDBOX, sandbox.getString("sandbox").startsWith("bubblewrap"), sandbox.encodePrettily());
    for (String limit : List.of("heap", "openFiles")) assertTrue(sandbox.getJsonObject("enforced").containsKey(limit), sandbox.encodePrettily());
    // every limit is either enforced, saying how, or unenforced, saying why
    for (String limit : List.of("fileSystem", "user", "tmp", "rss", "processes", "cpu")) {
      assertTrue(sandbox.getJsonObject("enforced").containsKey(limit) ^ sandbox.getJsonObject("unenforced").containsKey(limit),
          limit + ": " + sandbox.encodePrettily());
    }
    assertEquals(ferry.platform.sandbox().report(), sandbox);
    JsonObject runner = info.getJsonObject("limits").getJsonObject("runner");
    assertEquals(Config.DEFAULTS.run().maxProcesses(), runner.getInteger("maxProcesses"));
    assertEquals(Config.DEFAULTS.run().tmpMb(), runner.getInteger("tmpMb"));
    assertEquals(2 * Config.DEFAULTS.run().memoryMb() + Config.DEFAULTS.run().tmpMb() + 128, runner.getInteger("rssMb"), "run.rssMb 0: derived");
    assertEquals(HEADER_MS, info.getJsonObject("server").getLong("headerTimeoutMs"));
    assertEquals(STALL_MS, info.getJsonObject("server").getLong("uploadStallTimeoutMs"));
  }

  private static long uploads() throws IOException {
    try (var s = Files.list(ferry.platform.dataDir().uploads())) {
      return s.count();
    }
  }

  private static JsonObject answer(String from, String headers) throws IOException {
    try (Socket s = connect(from, ferry.proxyPort())) {
      s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: echo.localhost\r\n" + headers + "Connection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(resp.startsWith("HTTP/1.1 200"), resp);
      return new JsonObject(resp.substring(resp.indexOf("\r\n\r\n") + 4));
    }
  }

  static Socket connect(String from, int port) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
    return s;
  }

  /** Reads one response (head and Content-Length body) from {@code s}. */
  static String readResponse(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) return head.toString();
      head.append((char) b);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
    }
    return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  /** Whether the server closes {@code s} within {@code ms} (a read returns the end of the stream or a reset). */
  static boolean closedWithin(Socket s, long ms) throws IOException {
    s.setSoTimeout((int) ms);
    try {
      while (true) {
        if (s.getInputStream().read() < 0) return true;
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }
}
