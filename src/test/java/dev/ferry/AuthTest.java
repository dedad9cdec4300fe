package dev.ferry;

import dev.ferry.api.ApiToken;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who may deploy: every /api/v1 call and the log streams need the token; /health and the proxy do not. */
@Tag("platform")
class AuthTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  static String deployment;

  /** Every route of the API, with a method; none may answer anything but 401 without the token. */
  static final List<String[]> ROUTES = List.of(
      new String[] {"GET", "/api/v1/services"},
      new String[] {"GET", "/api/v1/services/auth-hello"},
      new String[] {"GET", "/api/v1/services/auth-hello/deployments"},
      new String[] {"DELETE", "/api/v1/services/auth-hello"},
      new String[] {"POST", "/api/v1/services/auth-hello/rollback"},
      new String[] {"POST", "/api/v1/services/auth-hello/deployments"},
      new String[] {"GET", "/api/v1/deployments/DEPLOYMENT"},
      new String[] {"GET", "/api/v1/deployments/DEPLOYMENT/logs"},
      new String[] {"GET", "/api/v1/info"},
      new String[] {"GET", "/api/v1/no-such-route"});

  @BeforeAll
  static void deployOne() {
    deployment = ferry.deploy("hello", "auth-hello").getString("id");
  }

  private static HttpRequest<Buffer> anonymous(String method, String path) {
    return ferry.anonymous.request(HttpMethod.valueOf(method), ferry.apiPort(), "127.0.0.1", path.replace("DEPLOYMENT", deployment));
  }

  @Test
  void every_api_route_answers_401_with_a_bearer_challenge_without_the_right_token() {
    String t = TestPlatform.TOKEN;
    List<String> wrong = List.of("nope", t.substring(0, t.length() - 1), t + "x",
        t.substring(0, t.length() - 1) + (char) (t.charAt(t.length() - 1) + 1), t.toUpperCase());
    for (String[] route : ROUTES) {
      String what = route[0] + " " + route[1];
      HttpResponse<Buffer> none = anonymous(route[0], route[1]).send().await();
      assertEquals(401, none.statusCode(), what);
      assertTrue(none.getHeader("WWW-Authenticate").startsWith("Bearer"), what);
      assertEquals("unauthorized", none.bodyAsJsonObject().getString("error"), what);
      assertTrue(none.bodyAsJsonObject().getString("message").contains("Authorization: Bearer"), none.bodyAsString());
      assertEquals(401, anonymous(route[0], route[1]).putHeader("Authorization", "Basic " + t).send().await().statusCode(), what);
      for (String w : wrong) {
        assertEquals(401, anonymous(route[0], route[1]).bearerTokenAuthentication(w).send().await().statusCode(), what + " with " + w);
      }
    }
    // with the token the same calls get through (GETs only, so nothing changes)
    for (String[] route : ROUTES) {
      if (!route[0].equals("GET") || route[1].contains("no-such")) continue;
      HttpResponse<Buffer> ok = anonymous(route[0], route[1]).bearerTokenAuthentication(t).send().await();
      assertEquals(200, ok.statusCode(), route[1] + ": " + ok.bodyAsString());
    }
  }

  @Test
  void an_upload_with_a_wrong_token_is_refused_before_its_body_is_stored() throws Exception {
    byte[] padded = new byte[256 * 1024];
    new Random(4).nextBytes(padded);
    HttpResponse<Buffer> r = anonymous("POST", "/api/v1/services/sneaky/deployments").bearerTokenAuthentication("wrong")
        .putHeader("content-type", "application/gzip").sendBuffer(Buffer.buffer(padded)).await();
    assertEquals(401, r.statusCode());
    TestPlatform.sleep(200);
    try (Stream<Path> uploads = Files.list(ferry.platform.dataDir().uploads())) {
      assertEquals(0, uploads.count(), "nothing stored");
    }
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/sneaky").statusCode());
  }

  @Test
  void the_log_websocket_takes_the_token_as_a_header_or_a_query_parameter() {
    WebSocketClient client = ferry.vertx.createWebSocketClient();
    try {
      String uri = "/api/v1/deployments/" + deployment + "/logs";
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(ferry.apiPort());
      Throwable refused = assertThrows(Throwable.class, () -> client.connect(new WebSocketConnectOptions(o).setURI(uri)).await());
      assertEquals(401, ((UpgradeRejectedException) refused).getStatus());
      refused = assertThrows(Throwable.class, () -> client.connect(new WebSocketConnectOptions(o).setURI(uri + "?token=wrong")).await());
      assertEquals(401, ((UpgradeRejectedException) refused).getStatus());
      client.connect(new WebSocketConnectOptions(o).setURI(uri + "?token=" + TestPlatform.TOKEN)).await().close().await();
      client.connect(new WebSocketConnectOptions(o).setURI(uri).addHeader("Authorization", "Bearer " + TestPlatform.TOKEN))
          .await().close().await();
    } finally {
      client.close().await();
    }
  }

  @Test
  void health_the_dashboard_page_metrics_and_the_proxy_are_public() {
    assertEquals(200, anonymous("GET", "/health").send().await().statusCode());
    assertEquals(200, anonymous("GET", "/").send().await().statusCode());
    assertEquals(200, anonymous("GET", "/metrics").send().await().statusCode());
    assertEquals(200, ferry.anonymous.get(ferry.proxyPort(), "127.0.0.1", "/").putHeader("Host", "auth-hello.localhost")
        .send().await().statusCode());
  }

  @Test
  void metrics_need_the_token_when_not_public() {
    try (TestPlatform closed = TestPlatform.start(c -> c.with("api.metricsPublic", false))) {
      assertEquals(401, closed.anonymous.get(closed.apiPort(), "127.0.0.1", "/metrics").send().await().statusCode());
      assertEquals(200, closed.api(HttpMethod.GET, "/metrics").statusCode());
    }
  }

  @Test
  void without_a_configured_token_one_is_generated_into_the_data_dir_owner_only_and_kept_across_restarts() throws Exception {
    Path data = Files.createTempDirectory("ferry-token");
    try (LogCapture log = LogCapture.of(ApiToken.class)) {
      String generated;
      try (TestPlatform first = TestPlatform.start(c -> c.with("token", null).with("dataDir", data))) {
        Path file = data.resolve("token");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        generated = Files.readString(file).trim();
        assertTrue(generated.length() >= 43, generated);
        assertNotEquals(TestPlatform.TOKEN, generated);
        assertEquals(1, log.count(null, generated), "printed once: " + log);
        assertEquals(401, first.api(HttpMethod.GET, "/api/v1/services").statusCode(), "the test token is not it");
        assertEquals(200, first.anonymous.get(first.apiPort(), "127.0.0.1", "/api/v1/services")
            .bearerTokenAuthentication(generated).send().await().statusCode());
      }
      try (TestPlatform second = TestPlatform.start(c -> c.with("token", null).with("dataDir", data))) {
        assertEquals(generated, Files.readString(data.resolve("token")).trim());
        assertEquals(1, log.count(null, generated), "not printed again: " + log);
        assertEquals(200, second.anonymous.get(second.apiPort(), "127.0.0.1", "/api/v1/services")
            .bearerTokenAuthentication(generated).send().await().statusCode());
      }
      // a configured token wins over the stored one
      try (TestPlatform third = TestPlatform.start(c -> c.with("dataDir", data))) {
        assertEquals(401, third.anonymous.get(third.apiPort(), "127.0.0.1", "/api/v1/services")
            .bearerTokenAuthentication(generated).send().await().statusCode());
        assertEquals(200, third.api(HttpMethod.GET, "/api/v1/services").statusCode());
      }
      assertFalse(Files.list(data).anyMatch(p -> p.getFileName().toString().startsWith(".token")), "no temp file left");
    } finally {
      TestPlatform.deleteTree(data);
    }
  }
}
