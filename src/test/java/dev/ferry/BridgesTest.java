package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event-bus bridges: SockJS at /eventbus (driven by the real npm client under Node) and TCP. */
@Tag("platform")
class BridgesTest {

  static final String TOKEN = TestPlatform.TOKEN;
  static final int tcpPort = TestPlatform.freePort();
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.with(c -> c.with("tcpBridge.enabled", true).with("tcpBridge.port", tcpPort));

  @Test
  void sockjs_bridge_refuses_a_handshake_without_the_token() {
    assertEquals(401, anonymous("/eventbus/info").statusCode());
    assertEquals(401, anonymous("/eventbus/info?token=wrong").statusCode());
    assertEquals(200, anonymous("/eventbus/info?token=" + TOKEN).statusCode());
    assertEquals(200, ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", "/eventbus/info")
        .putHeader("Authorization", "Bearer " + TOKEN).send().await().statusCode());
  }

  private static io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> anonymous(String uri) {
    return ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", uri).send().await();
  }

  @Test
  void the_npm_client_hears_state_changes_and_service_logs_and_cannot_send() throws Exception {
    Path modules = NodeSupport.install("@vertx/eventbus-bridge-client.js@1.0.0");
    ProcessBuilder pb = new ProcessBuilder("node", Path.of("src/test/node/bridge-client.js").toAbsolutePath().toString(),
        "http://127.0.0.1:" + ferry.apiPort() + "/eventbus?token=" + TOKEN).redirectErrorStream(true);
    pb.environment().put("NODE_PATH", modules.toAbsolutePath().toString());
    Process node = pb.start();
    List<JsonObject> out = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          try {
            out.add(new JsonObject(line));
          } catch (RuntimeException notJson) {
            out.add(new JsonObject().put("raw", line));
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
    });
    reader.start();
    try (OutputStream stdin = node.getOutputStream()) {
      JsonObject refused = await(out, o -> "ferry.events".equals(o.getString("after")));
      assertEquals("access_denied", refused.getJsonObject("refused").getString("body"), refused.encode());

      JsonObject d = ferry.deploy("chatty", "bridged");
      JsonObject deployed = await(out, o -> "ferry.events".equals(o.getString("address")) && "deployed".equals(o.getJsonObject("body").getString("state"))
          && "bridged".equals(o.getJsonObject("body").getString("service")));
      assertNoServerPath(deployed);

      String logs = "ferry.logs." + d.getString("id");
      stdin.write((d.getString("id") + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
      await(out, o -> logs.equals(o.getString("after")));
      ferry.viaProxy("bridged", "/say?m=over-the-bridge");
      await(out, o -> logs.equals(o.getString("address")) && "over-the-bridge".equals(o.getJsonObject("body").getString("message")));
      stdin.write("quit\n".getBytes(StandardCharsets.UTF_8));
    } finally {
      if (!node.waitFor(5, TimeUnit.SECONDS)) node.destroyForcibly();
    }
  }

  @Test
  void tcp_bridge_serves_the_same_addresses_with_its_framing_and_needs_the_token() {
    NetClient client = ferry.vertx.createNetClient();
    List<JsonObject> frames = new CopyOnWriteArrayList<>();
    NetSocket socket = client.connect(tcpPort, "127.0.0.1").await();
    // 4-byte big-endian length, then that many bytes of JSON
    RecordParser parser = RecordParser.newFixed(4);
    int[] expect = {-1};
    parser.handler(b -> {
      if (expect[0] < 0) {
        expect[0] = b.getInt(0);
        parser.fixedSizeMode(expect[0]);
      } else {
        frames.add(new JsonObject(b));
        expect[0] = -1;
        parser.fixedSizeMode(4);
      }
    });
    socket.handler(parser);
    try {
      write(socket, new JsonObject().put("type", "register").put("address", "ferry.events"));
      JsonObject noToken = await(frames, f -> "err".equals(f.getString("type")));

      JsonObject token = new JsonObject().put("token", TOKEN);
      write(socket, new JsonObject().put("type", "register").put("address", "ferry.events").put("headers", token));
      write(socket, new JsonObject().put("type", "send").put("address", "ferry.build").put("headers", token).put("body", new JsonObject()));
      JsonObject sendRefused = await(frames, f -> frames.indexOf(f) > frames.indexOf(noToken) && "err".equals(f.getString("type")));
      assertEquals("access_denied", sendRefused.getString("message"), sendRefused.encode());

      JsonObject d = ferry.deploy("hello", "tcp-bridged");
      JsonObject msg = await(frames, f -> "message".equals(f.getString("type")) && "ferry.events".equals(f.getString("address"))
          && "deployed".equals(f.getJsonObject("body").getString("state")));
      assertEquals(d.getString("id"), msg.getJsonObject("body").getString("id"));
    } finally {
      socket.close();
      client.close();
    }
  }

  /** What the SockJS bridge carries names no file of the server: a deployment's artifact has no path. */
  static void assertNoServerPath(JsonObject message) {
    JsonObject artifact = message.getJsonObject("body").getJsonObject("artifact");
    assertTrue(artifact != null && artifact.getString("sha256") != null && !artifact.containsKey("path"), message.encode());
    assertFalse(message.encode().contains(ferry.dataDir.toString()), message.encode());
  }

  private static void write(NetSocket socket, JsonObject frame) {
    Buffer json = frame.toBuffer();
    socket.write(Buffer.buffer().appendInt(json.length()).appendBuffer(json));
  }

  static JsonObject await(List<JsonObject> items, Predicate<JsonObject> p) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonObject o : items) if (p.test(o)) return o;
      TestPlatform.sleep(20);
    }
    throw new AssertionError("nothing matched in " + items);
  }
}
