package dev.ferry;

import dev.ferry.settings.ApiConfig;
import dev.ferry.settings.ArtifactsConfig;
import dev.ferry.settings.BuildConfig;
import dev.ferry.settings.Check;
import dev.ferry.settings.ExtractConfig;
import dev.ferry.settings.Keys;
import dev.ferry.settings.LoadConfig;
import dev.ferry.settings.MavenConfig;
import dev.ferry.settings.ProxyConfig;
import dev.ferry.settings.ResourcesConfig;
import dev.ferry.settings.RunConfig;
import dev.ferry.settings.ServerConfig;
import dev.ferry.settings.TcpBridgeConfig;
import dev.ferry.settings.UploadConfig;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every setting of the platform, by section, as {@code config/ferry.json} groups them; immutable.
 * Defaults are each section's {@code DEFAULTS}; a JSON file, then {@code FERRY_*} environment
 * variables (a key's path in upper snake case: {@code build.queueCapacity} is
 * {@code FERRY_BUILD_QUEUE_CAPACITY}, see {@link Keys}), then command-line flags override them. A bad
 * value fails with the key's name.
 *
 * @param host the address the API and proxy bind
 * @param domain services answer at {@code <service>.<domain>}
 * @param dataDir the ledger, uploads, builds, artifacts, the Maven repository
 * @param token the API token; null: the platform generates one on its first start into {@code <data dir>/token}
 */
public record Config(String host, String domain, Path dataDir, String token, ApiConfig api, ProxyConfig proxy,
    ServerConfig server, UploadConfig upload, ExtractConfig extract, BuildConfig build, RunConfig run, MavenConfig maven,
    TcpBridgeConfig tcpBridge, ArtifactsConfig artifacts, LoadConfig load, ResourcesConfig resources) {

  private static final Logger log = LoggerFactory.getLogger(Config.class);

  public static final Config DEFAULTS = new Config("127.0.0.1", "localhost", Path.of("data"), null, ApiConfig.DEFAULTS,
      ProxyConfig.DEFAULTS, ServerConfig.DEFAULTS, UploadConfig.DEFAULTS, ExtractConfig.DEFAULTS, BuildConfig.DEFAULTS,
      RunConfig.DEFAULTS, MavenConfig.DEFAULTS, TcpBridgeConfig.DEFAULTS, ArtifactsConfig.DEFAULTS, LoadConfig.DEFAULTS,
      ResourcesConfig.DEFAULTS);

  /** The names variables had before they were derived from keys; still read, after the derived one. */
  static final Map<String, String> ENV_ALIASES = Map.of(
      "run.sandbox", "FERRY_SANDBOX",
      "resources.postgres.url", "FERRY_POSTGRES_URL",
      "resources.postgres.user", "FERRY_POSTGRES_USER",
      "resources.postgres.password", "FERRY_POSTGRES_PASSWORD",
      "resources.secretsKey", "FERRY_SECRETS_KEY");

  public Config {
    Check.present("host", host);
    domain = Check.present("domain", domain).toLowerCase(Locale.ROOT);
    Check.present("dataDir", dataDir);
    token = Check.blankToNull(token);
  }

  /** Reads the nested layout of {@code config/ferry.json}; absent keys keep their defaults, unknown ones are reported. */
  public static Config fromJson(JsonObject json) {
    Map<String, Class<?>> keys = Keys.of(Config.class);
    leaves(json, "").stream().filter(k -> !keys.containsKey(k)).forEach(k -> log.warn("Unknown config key {}: ignored", k));
    return Keys.fromJson(Config.class, "", DEFAULTS.toJson().mergeIn(json, true));
  }

  private static List<String> leaves(JsonObject json, String prefix) {
    List<String> out = new ArrayList<>();
    json.forEach(e -> {
      if (e.getValue() instanceof JsonObject o) out.addAll(leaves(o, prefix + e.getKey() + "."));
      else out.add(prefix + e.getKey());
    });
    return out;
  }

  /** Defaults, then {@code file} if it exists, then {@code FERRY_*} variables from {@code env}. */
  public static Config load(Path file, Map<String, String> env) {
    JsonObject json = new JsonObject();
    if (file != null && Files.isRegularFile(file)) {
      try {
        json = new JsonObject(Files.readString(file));
      } catch (IOException | DecodeException e) {
        throw new IllegalArgumentException("Cannot read config " + file + ": " + e.getMessage(), e);
      }
    }
    return fromJson(json.mergeIn(Keys.fromEnv(Config.class, env, ENV_ALIASES), true));
  }

  /** This config with the {@code FERRY_*} variables of {@code env} applied. */
  public Config withEnv(Map<String, String> env) {
    return Keys.fromJson(Config.class, "", toJson().mergeIn(Keys.fromEnv(Config.class, env, ENV_ALIASES), true));
  }

  /** This config with {@code key} ({@code run.memoryMb}, as in the file) set to {@code value}, checked as the file's would be. */
  public Config with(String key, Object value) {
    if (!Keys.of(Config.class).containsKey(key)) throw new IllegalArgumentException("No config key " + key);
    JsonObject json = toJson();
    Keys.put(json, key, value);
    return Keys.fromJson(Config.class, "", json);
  }

  public JsonObject toJson() {
    return Keys.toJson(this);
  }

  /** Without the secrets: a config may end up in a log. */
  @Override
  public String toString() {
    JsonObject json = toJson();
    if (token != null) json.put("token", "***");
    JsonObject r = json.getJsonObject("resources");
    if (resources.secretsKey() != null) r.put("secretsKey", "***");
    if (resources.postgres().password() != null) r.getJsonObject("postgres").put("password", "***");
    return "Config" + json.encode();
  }

  /**
   * Where the runner's jar and class-data-sharing archive are kept: {@code run.cacheDir}, else
   * {@code <dataDir>/cache}; absolute, since runners start in directories of their own.
   */
  public Path cacheDir() {
    return (run.cacheDir() != null ? run.cacheDir() : dataDir.resolve("cache")).toAbsolutePath().normalize();
  }
}
