package dev.ferry;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigTest {

  @Test
  void config_file_spells_out_exactly_the_defaults() throws Exception {
    JsonObject file = new JsonObject(Files.readString(Path.of("config/ferry.json")));
    assertEquals(new Config().toJson(), file);
  }

  @Test
  void a_file_overrides_defaults_and_env_overrides_the_file() throws Exception {
    Path f = Files.createTempFile("ferry", ".json");
    try {
      Files.writeString(f, "{\"api\":{\"port\":9001},\"proxy\":{\"port\":9002},\"domain\":\"apps.test\",\"build\":{\"concurrency\":3}}");
      Config c = Config.load(f, Map.of("FERRY_PROXY_PORT", "9100", "FERRY_DATA_DIR", "/tmp/elsewhere"));
      assertEquals(9001, c.apiPort());
      assertEquals(9100, c.proxyPort());
      assertEquals("apps.test", c.domain());
      assertEquals(3, c.buildConcurrency());
      assertEquals(Path.of("/tmp/elsewhere"), c.dataDir());
      assertEquals(Config.DEFAULT_UPLOAD_MAX_BYTES, c.uploadMaxBytes());
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void bad_values_are_refused_with_the_key() {
    var e = assertThrows(IllegalArgumentException.class, () -> new Config().applyEnv(Map.of("FERRY_API_PORT", "eighty")));
    assertTrue(e.getMessage().contains("FERRY_API_PORT"));
    assertThrows(IllegalArgumentException.class, () -> new Config().setProxyPort(70000));
    var bad = assertThrows(IllegalArgumentException.class, () -> new Config(new JsonObject().put("build", new JsonObject().put("concurrency", 0))));
    assertTrue(bad.getMessage().contains("build.concurrency"));
  }

  @Test
  void maven_settings_and_an_unset_local_repository_come_from_file_and_env() throws Exception {
    assertEquals(null, new Config().mavenLocalRepository(), "unset by default: settings.xml's, else <dataDir>/maven");
    Config c = new Config(new JsonObject().put("maven", new JsonObject().put("settings", "/etc/ferry/settings.xml").put("localRepository", "repo")));
    assertEquals("/etc/ferry/settings.xml", c.mavenSettings());
    c.applyEnv(Map.of("FERRY_MAVEN_SETTINGS", "/srv/settings.xml", "FERRY_MAVEN_LOCAL_REPOSITORY", ""));
    assertEquals("/srv/settings.xml", c.mavenSettings());
    assertEquals(null, c.mavenLocalRepository(), "an empty value unsets it");
  }
}
