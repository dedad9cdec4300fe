package dev.ferry;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the secrets key comes from, the files' modes, and what a changed key does. */
@Tag("platform")
class SecretsKeyTest {

  static io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> put(TestPlatform ferry, String service, JsonObject body) {
    return ferry.http.put(ferry.apiPort(), "127.0.0.1", "/api/v1/services/" + service + "/secrets").sendJsonObject(body).await();
  }

  static String key() {
    return Base64.getEncoder().encodeToString(dev.ferry.resources.Vault.randomBytes(32));
  }

  @Test
  void a_generated_key_and_the_store_are_0600_and_a_changed_key_fails_deploys_naming_the_cause() throws Exception {
    Path data = Files.createTempDirectory("ferry-secrets-key");
    try {
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data))) {
        assertEquals(200, put(ferry, "keys", new JsonObject().put("GREETING", "hi").put("API_KEY", "k")).statusCode());
      }
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("secrets.key"))));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("resources.db"))));

      // the same data dir, another key (FERRY_SECRETS_KEY): the values cannot be read, and the deploy says why
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data).with("resources.secretsKey", key()))) {
        JsonObject d = ferry.deploy("secrets", "keys");
        assertEquals("error", d.getString("state"), d.encodePrettily());
        assertTrue(d.getString("error").contains("does not decrypt with the current secrets key"), d.getString("error"));
      }
      // the generated key again: they can
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data))) {
        assertEquals("deployed", ferry.deploy("secrets", "keys").getString("state"));
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
  }

  @Test
  void a_configured_key_is_used_and_no_key_file_is_written() throws Exception {
    Path data = Files.createTempDirectory("ferry-secrets-key");
    try {
      String k = key();
      try (TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data).with("resources.secretsKey", k))) {
        assertEquals(200, put(ferry, "keys", new JsonObject().put("GREETING", "hi").put("API_KEY", "k")).statusCode());
        assertEquals("deployed", ferry.deploy("secrets", "keys").getString("state"));
      }
      assertFalse(Files.exists(data.resolve("secrets.key")));
      // a key that is not 32 bytes of base64 stops the start, saying what a key is
      io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
      try {
        Exception bad = assertThrows(Exception.class, () -> Platform.start(vertx, Config.DEFAULTS.with("host", "127.0.0.1").with("api.port", 0)
            .with("proxy.port", 0).with("dataDir", data).with("resources.secretsKey", "short")).await());
        assertTrue(String.valueOf(bad.getMessage()).contains("32 random bytes in base64"), String.valueOf(bad));
      } finally {
        vertx.close().await();
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
  }
}
