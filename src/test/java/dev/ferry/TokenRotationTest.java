package dev.ferry;

import dev.ferry.cli.FerryCommand;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ferry token rotate} and its route: a stored token is replaced, the old one refused at
 * once, the new one kept across a restart; a configured token is not the API's to change.
 */
@Tag("platform")
class TokenRotationTest {

  @Test
  void rotating_refuses_the_old_token_at_once_and_the_new_one_is_stored_owner_only_and_kept_across_a_restart() throws Exception {
    Path data = Files.createTempDirectory("ferry-rotate");
    try {
      String rotated;
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("token", null).with("dataDir", data))) {
        String old = Files.readString(data.resolve("token")).trim();
        HttpResponse<Buffer> r = post(ferry, old);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        rotated = r.bodyAsJsonObject().getString("token");
        assertNotEquals(old, rotated);
        assertTrue(rotated.length() >= 43, rotated);
        assertEquals("no-store", r.getHeader("Cache-Control"));
        assertEquals(401, get(ferry, old).statusCode(), "the old token is refused at once");
        assertEquals(401, post(ferry, old).statusCode(), "and cannot rotate again");
        assertEquals(200, get(ferry, rotated).statusCode());
        Path file = data.resolve("token");
        assertEquals(rotated, Files.readString(file).trim());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      }
      try (TestPlatform again = TestPlatform.start(c -> c.with("token", null).with("dataDir", data))) {
        assertEquals(200, get(again, rotated).statusCode(), "the new token after a restart");
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
  }

  @Test
  void a_configured_token_is_not_rotated_by_the_api() {
    try (TestPlatform ferry = TestPlatform.start()) {
      HttpResponse<Buffer> r = post(ferry, TestPlatform.TOKEN);
      assertEquals(409, r.statusCode(), r.bodyAsString());
      assertTrue(r.bodyAsJsonObject().getString("message").contains("FERRY_TOKEN"), r.bodyAsString());
      assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services").statusCode(), "it still works");
    }
  }

  @Test
  void ferry_token_rotate_prints_the_new_token_and_stores_it_where_ferry_login_had_stored_the_old_one() throws Exception {
    Path data = Files.createTempDirectory("ferry-rotate-cli");
    Path config = Files.createTempDirectory("ferry-cli-config");
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("token", null).with("dataDir", data))) {
      String server = "http://127.0.0.1:" + ferry.apiPort();
      Map<String, String> env = Map.of("XDG_CONFIG_HOME", config.toString(), "FERRY_DATA_DIR", config.resolve("no-data").toString());
      StringWriter out = new StringWriter(), err = new StringWriter();
      assertEquals(0, cli(env, out, err, "login", "--server", server, "--token", Files.readString(data.resolve("token")).trim()), err.toString());
      out.getBuffer().setLength(0);
      assertEquals(0, cli(env, out, err, "token", "rotate"), out + " " + err);
      String rotated = Files.readString(data.resolve("token")).trim();
      assertTrue(out.toString().contains("New API token: " + rotated), out.toString());
      Path stored = config.resolve("ferry/config.json");
      assertTrue(out.toString().contains("Saved to " + stored), out.toString());
      assertEquals(rotated, new JsonObject(Files.readString(stored)).getString("token"), "the client's login follows");
      assertEquals(server, new JsonObject(Files.readString(stored)).getString("server"));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stored)));
      // the next command works with the stored token
      assertEquals(0, cli(env, new StringWriter(), err, "list"), err.toString());
    } finally {
      TestPlatform.deleteTree(data);
      TestPlatform.deleteTree(config);
    }
  }

  private static int cli(Map<String, String> env, StringWriter out, StringWriter err, String... args) {
    return FerryCommand.commandLine(env).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
  }

  private static HttpResponse<Buffer> post(TestPlatform ferry, String token) {
    return ferry.anonymous.post(ferry.apiPort(), "127.0.0.1", "/api/v1/token/rotate").bearerTokenAuthentication(token)
        .sendJsonObject(new JsonObject()).await();
  }

  private static HttpResponse<Buffer> get(TestPlatform ferry, String token) {
    return ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", "/api/v1/services").bearerTokenAuthentication(token).send().await();
  }
}
