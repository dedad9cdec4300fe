package dev.ferry;

import dev.ferry.settings.Keys;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigTest {

  @Test
  void config_file_spells_out_exactly_the_defaults() throws Exception {
    JsonObject file = new JsonObject(Files.readString(Path.of("config/ferry.json")));
    assertEquals(Config.DEFAULTS.toJson(), file);
    assertEquals(Config.DEFAULTS, Config.load(Path.of("config/ferry.json"), Map.of()));
  }

  @Test
  void a_file_overrides_defaults_and_env_overrides_the_file() throws Exception {
    Path f = Files.createTempFile("ferry", ".json");
    try {
      Files.writeString(f, "{\"api\":{\"port\":9001},\"proxy\":{\"port\":9002},\"domain\":\"apps.test\",\"build\":{\"concurrency\":3}}");
      Config c = Config.load(f, Map.of("FERRY_PROXY_PORT", "9100", "FERRY_DATA_DIR", "/tmp/elsewhere"));
      assertEquals(9001, c.api().port());
      assertEquals(9100, c.proxy().port());
      assertEquals("apps.test", c.domain());
      assertEquals(3, c.build().concurrency());
      assertEquals(Path.of("/tmp/elsewhere"), c.dataDir());
      assertEquals(Config.DEFAULTS.upload(), c.upload());
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void every_key_has_an_env_variable_derived_from_its_path_and_typed() {
    assertEquals("FERRY_BUILD_QUEUE_CAPACITY", Keys.envName("build.queueCapacity"));
    assertEquals("FERRY_RESOURCES_POSTGRES_URL", Keys.envName("resources.postgres.url"));
    Config c = Config.DEFAULTS.withEnv(Map.of("FERRY_BUILD_QUEUE_CAPACITY", "7", "FERRY_RESOURCES_POSTGRES_PORT", "5433",
        "FERRY_RUN_JVM_OPTIONS", "-XX:+UseZGC, -Xss512k", "FERRY_SERVER_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2",
        "FERRY_RUN_CDS", "false", "FERRY_UPLOAD_MAX_BYTES", "4294967296", "FERRY_TCP_BRIDGE_ENABLED", "TRUE"));
    assertEquals(7, c.build().queueCapacity());
    assertEquals(5433, c.resources().postgres().port());
    assertEquals(List.of("-XX:+UseZGC", "-Xss512k"), c.run().jvmOptions());
    assertEquals(List.of("10.0.0.1", "10.0.0.2"), c.server().trustedProxies());
    assertFalse(c.run().cds());
    assertEquals(4L << 30, c.upload().maxBytes());
    assertTrue(c.tcpBridge().enabled());
    assertEquals(Config.DEFAULTS.build().concurrency(), c.build().concurrency(), "the rest of the section is kept");
    assertEquals(List.of(), Config.DEFAULTS.withEnv(Map.of("FERRY_MAVEN_REMOTE_REPOSITORIES", "")).maven().remoteRepositories());
  }

  @Test
  void the_names_variables_had_before_still_work_and_the_derived_one_wins() {
    Config old = Config.DEFAULTS.withEnv(Map.of("FERRY_SANDBOX", "none", "FERRY_POSTGRES_URL", "postgresql://db:5432/postgres",
        "FERRY_POSTGRES_USER", "admin", "FERRY_POSTGRES_PASSWORD", "pw", "FERRY_SECRETS_KEY", "a-key"));
    assertEquals("none", old.run().sandbox());
    assertEquals("postgresql://db:5432/postgres", old.resources().postgres().url());
    assertEquals("admin", old.resources().postgres().user());
    assertEquals("pw", old.resources().postgres().password());
    assertEquals("a-key", old.resources().secretsKey());
    Config both = Config.DEFAULTS.withEnv(Map.of("FERRY_SANDBOX", "none", "FERRY_RUN_SANDBOX", "bwrap"));
    assertEquals("bwrap", both.run().sandbox());
  }

  @Test
  void bad_values_fail_naming_the_key() throws Exception {
    var e = assertThrows(IllegalArgumentException.class, () -> Config.DEFAULTS.withEnv(Map.of("FERRY_API_PORT", "eighty")));
    assertEquals("FERRY_API_PORT (api.port) is not a number: eighty", e.getMessage());
    var flag = assertThrows(IllegalArgumentException.class, () -> Config.DEFAULTS.withEnv(Map.of("FERRY_RUN_CDS", "yes")));
    assertTrue(flag.getMessage().contains("FERRY_RUN_CDS (run.cds)"), flag.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Config.DEFAULTS.with("proxy.port", 70000));
    var bad = assertThrows(IllegalArgumentException.class, () -> Config.fromJson(new JsonObject().put("build", new JsonObject().put("concurrency", 0))));
    assertEquals("build.concurrency must be positive: 0", bad.getMessage());
    var typed = assertThrows(IllegalArgumentException.class, () -> Config.fromJson(new JsonObject().put("run", new JsonObject().put("tmpMb", "big"))));
    assertEquals("run.tmpMb must be a whole number, not big", typed.getMessage());
    Path f = Files.createTempFile("ferry", ".json");
    try {
      Files.writeString(f, "{\"run\":{\"memoryMb\":-1}}");
      var file = assertThrows(IllegalArgumentException.class, () -> Config.load(f, Map.of()));
      assertEquals("run.memoryMb must be positive: -1", file.getMessage());
      var env = assertThrows(IllegalArgumentException.class, () -> Config.load(f, Map.of("FERRY_RUN_PORT_RANGE", "1-2", "FERRY_RUN_MEMORY_MB", "64")));
      assertEquals("run.portRange must be FIRST-LAST within 1024-65535, not 1-2", env.getMessage());
    } finally {
      Files.delete(f);
    }
    assertThrows(IllegalArgumentException.class, () -> Config.DEFAULTS.with("run.noSuchKey", 1));
  }

  @Test
  void a_config_goes_through_its_json_file_and_back_unchanged() throws Exception {
    Config c = Config.DEFAULTS.with("host", "0.0.0.0").with("dataDir", Path.of("/srv/ferry")).with("token", "t0ken")
        .with("run.jvmOptions", List.of("-XX:+UseZGC")).with("run.cacheDir", Path.of("/var/cache/ferry")).with("run.isolation", "shared")
        .with("server.trustedProxies", List.of("10.1.2.3")).with("maven.offline", true).with("upload.maxBytes", 5_000_000_000L)
        .with("resources.postgres.url", "postgresql://db/postgres").with("load.forbiddenCalls", List.of());
    Path f = Files.createTempFile("ferry", ".json");
    try {
      Files.writeString(f, c.toJson().encodePrettily());
      assertEquals(c, Config.load(f, Map.of()));
      assertEquals(c, Config.fromJson(new JsonObject(c.toJson().encode())));
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void maven_settings_and_an_unset_local_repository_come_from_file_and_env() {
    assertEquals(null, Config.DEFAULTS.maven().localRepository(), "unset by default: settings.xml's, else <dataDir>/maven");
    Config c = Config.fromJson(new JsonObject().put("maven", new JsonObject().put("settings", "/etc/ferry/settings.xml").put("localRepository", "repo")));
    assertEquals("/etc/ferry/settings.xml", c.maven().settings());
    c = c.withEnv(Map.of("FERRY_MAVEN_SETTINGS", "/srv/settings.xml", "FERRY_MAVEN_LOCAL_REPOSITORY", ""));
    assertEquals("/srv/settings.xml", c.maven().settings());
    assertEquals(null, c.maven().localRepository(), "an empty value unsets it");
  }

  /** The README's configuration table: one row per key, naming the key's variable (and its older name, if any). */
  @Test
  void the_readme_lists_every_key_with_its_env_variable() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    String section = readme.substring(readme.indexOf("## Configuration"));
    section = section.substring(0, section.indexOf("\n## ", 1));
    Map<String, String> rows = new TreeMap<>();
    for (String line : section.split("\n")) {
      if (!line.startsWith("| `")) continue;
      String[] cells = line.split("\\|");
      String key = cells[1].trim().replace("`", "");
      assertEquals(null, rows.put(key, cells[3]), "a second row for " + key);
    }
    assertEquals(new TreeMap<>(Keys.of(Config.class)).keySet(), rows.keySet(), "the README's keys are the config's");
    rows.forEach((key, env) -> {
      assertTrue(env.contains("`" + Keys.envName(key) + "`"), key + " names " + Keys.envName(key) + ": " + env);
      String alias = Config.ENV_ALIASES.get(key);
      if (alias != null) assertTrue(env.contains("`" + alias + "`"), key + " names its older variable " + alias);
    });
  }
}
