package dev.ferry;

import dev.ferry.proxy.Routes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy: routing by Host, its own answers when it cannot route, forwarded headers, WebSockets. */
@Tag("platform")
class ProxyTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  @BeforeAll
  static void deployEcho() {
    assertEquals("deployed", ferry.deploy("hello", "echo").getString("state"));
  }

  @Test
  void no_host_answers_400() throws Exception {
    // HTTP/1.0 may omit Host: send one by hand over a plain socket
    try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), ferry.proxyPort())) {
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String resp = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(resp.startsWith("HTTP/1.0 400"), resp);
      assertTrue(resp.contains("\"error\":\"bad_request\""), resp);
    }
  }

  @Test
  void a_host_outside_the_domain_answers_400() {
    HttpResponse<Buffer> r = ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/").putHeader("Host", "example.com").send().await();
    assertEquals(400, r.statusCode());
  }

  @Test
  void an_unknown_service_answers_404_with_json_naming_it() {
    HttpResponse<Buffer> r = ferry.viaProxy("ghost", "/");
    assertEquals(404, r.statusCode());
    assertEquals("application/json", r.getHeader("content-type"));
    assertTrue(r.bodyAsJsonObject().getString("message").contains("ghost"));
  }

  @Test
  void a_backend_that_fails_answers_502() throws Exception {
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort();
    }
    ferry.platform.routes().put("dead", new Routes.Backend("zzzzzzzzzzzzz", dead));
    try {
      assertEquals(502, ferry.viaProxy("dead", "/").statusCode());
    } finally {
      ferry.platform.routes().remove("dead", "zzzzzzzzzzzzz");
    }
  }

  @Test
  void forwarded_headers_are_set() {
    JsonObject body = ferry.viaProxy("echo", "/").bodyAsJsonObject();
    assertEquals("127.0.0.1", body.getString("xForwardedFor"));
    assertEquals("echo.localhost:" + ferry.proxyPort(), body.getString("xForwardedHost"));
    assertEquals("http", body.getString("xForwardedProto"));
  }

  @Test
  void an_incoming_x_forwarded_for_from_a_client_that_is_no_trusted_proxy_is_replaced() {
    JsonObject body = ferry.http.get(ferry.proxyPort(), "127.0.0.1", "/").putHeader("Host", "echo.localhost")
        .putHeader("X-Forwarded-For", "203.0.113.7").send().await().bodyAsJsonObject();
    assertEquals("127.0.0.1", body.getString("xForwardedFor"), "see ServerHardeningTest for a trusted proxy's");
  }

  @Test
  void websocket_upgrades_pass_through() throws Exception {
    var client = ferry.vertx.createWebSocketClient();
    try {
      CompletableFuture<String> reply = new CompletableFuture<>();
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(ferry.proxyPort())
          .setURI("/ws").addHeader("Host", "echo.localhost");
      // attach the handler on the event loop, before the first frame can arrive
      WebSocket ws = ferry.vertx.getOrCreateContext().<WebSocket>executeBlocking(() -> null).compose(x ->
          client.connect(o).onSuccess(s -> s.textMessageHandler(reply::complete))).await();
      ws.writeTextMessage("ping").await();
      assertEquals("echo:ping", reply.get(10, TimeUnit.SECONDS));
      ws.close().await();
    } finally {
      client.close().await();
    }
  }
}
