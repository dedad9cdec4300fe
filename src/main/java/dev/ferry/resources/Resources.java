package dev.ferry.resources;

import dev.ferry.DataDir;
import dev.ferry.deployment.StageException;
import dev.ferry.settings.PostgresConfig;
import dev.ferry.settings.ResourcesConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Infrastructure from code: what a service's entry verticle declares ({@code @Postgres},
 * {@code @Secret}), provided when it loads, and the secrets its operator sets. The pipeline's one
 * entry is {@link #provide}; the API uses the rest. Every method blocks: call it from a worker.
 */
public final class Resources implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Resources.class);
  /** Config key of the databases: {@code {name: {host, port, database, user, password, uri}}}. */
  public static final String POSTGRES = "ferry.postgres";
  /** Config key of the secrets: {@code {KEY: value}}. */
  public static final String SECRETS = "ferry.secrets";
  /** The largest secret value, in characters. */
  public static final int MAX_SECRET_LENGTH = 64 * 1024;

  private final ResourceStore store;
  private final Databases databases;

  private Resources(ResourceStore store, Databases databases) {
    this.store = store;
    this.databases = databases;
  }

  /** Opens the store (creating the secrets key if needed); starts no server. */
  public static Resources open(ResourcesConfig config, DataDir dataDir) throws IOException {
    Vault vault = Vault.open(config.secretsKey(), dataDir.secretsKey());
    ResourceStore store = ResourceStore.open(dataDir.resources(), vault);
    PostgresConfig pg = config.postgres();
    PostgresServer server = pg.url() == null
        ? new EmbeddedPostgres(dataDir.postgres(), store, pg.port())
        : new ExternalPostgres(pg.url(), pg.user(), pg.password());
    return new Resources(store, new Databases(server, store));
  }

  /**
   * What deployment {@code deploymentId} of {@code service} gets in its verticle's config for what
   * {@code entryClass} (in {@code artifactJar}) declares: {@code ferry.postgres} and {@code ferry.secrets}
   * (empty when it declares nothing and has no secrets). Fails naming the secrets that are not set
   * and the command that sets them, or the database that cannot be provisioned and why.
   * {@code log} hears lines for the deployment's log (names, never values).
   */
  public JsonObject provide(String service, String deploymentId, Path artifactJar, String entryClass, Consumer<String> log)
      throws StageException {
    Declarations declared = Declarations.read(artifactJar, entryClass);
    Map<String, String> secrets;
    try {
      secrets = store.secretValues(service);
    } catch (Vault.WrongKey e) {
      throw new StageException("Cannot read the secrets of " + service + ": " + e.getMessage());
    }
    List<String> missing = declared.secrets().stream().filter(k -> !secrets.containsKey(k)).toList();
    if (!missing.isEmpty()) {
      throw new StageException((missing.size() == 1 ? "Secret " : "Secrets ") + String.join(", ", missing) + " of " + service
          + (missing.size() == 1 ? " is" : " are") + " declared (@Secret) but not set. Set "
          + (missing.size() == 1 ? "it" : "them") + " with: ferry secrets set " + service + " "
          + String.join(" ", missing.stream().map(k -> k + "=...").toList()));
    }
    JsonObject out = new JsonObject();
    if (!declared.isEmpty()) {
      List<String> what = new ArrayList<>();
      declared.databases().forEach(d -> what.add("@Postgres(\"" + d + "\")"));
      declared.secrets().forEach(s -> what.add("@Secret(\"" + s + "\")"));
      log.accept(entryClass + " declares " + String.join(", ", what));
    }
    if (!secrets.isEmpty()) {
      out.put(SECRETS, new JsonObject(new LinkedHashMap<>(secrets)));
      log.accept("Secrets: " + String.join(", ", secrets.keySet()));
    }
    if (!declared.databases().isEmpty()) {
      JsonObject dbs = new JsonObject();
      for (String name : declared.databases()) {
        try {
          dbs.put(name, databases.provide(service, name, log));
        } catch (Vault.WrongKey e) {
          throw new StageException("Cannot read the credentials of database " + name + " of " + service + ": " + e.getMessage());
        }
      }
      out.put(POSTGRES, dbs);
    }
    if (!out.isEmpty()) {
      Resources.log.info("{} {}: provided databases {} and secrets {}", service, deploymentId, declared.databases(), secrets.keySet());
    }
    return out;
  }

  /**
   * For a deployment that kept running while the platform was down (adopted after a restart):
   * makes sure the server of its databases runs again (the embedded one stops with the platform),
   * so it finds them where its config says. Blocks.
   */
  public void resume(String service, Consumer<String> log) throws StageException {
    databases.resume(service, log);
  }

  /** The names of {@code service}'s secrets and when each was set. */
  public JsonArray secrets(String service) {
    JsonArray out = new JsonArray();
    store.secretInfos(service).forEach(s -> out.add(new JsonObject().put("name", s.name()).put("updatedAt", s.updatedAt().toString())));
    return out;
  }

  /**
   * Merges {@code values} into {@code service}'s secrets (a null value removes its key); returns the
   * keys whose value changed. {@link IllegalArgumentException} names a bad key or value (never
   * quoting the value).
   */
  public List<String> setSecrets(String service, JsonObject values) {
    if (values.isEmpty()) throw new IllegalArgumentException("Give at least one secret: {\"KEY\": \"value\"}");
    Map<String, String> checked = new LinkedHashMap<>();
    for (var e : values) {
      String key = e.getKey();
      if (!Declarations.SECRET_KEY.matcher(key).matches()) {
        throw new IllegalArgumentException("'" + key + "' is not a secret key: a letter or '_', then letters, digits and '_' (at most 128)");
      }
      Object v = e.getValue();
      if (v != null && !(v instanceof String)) throw new IllegalArgumentException("The value of " + key + " must be a string (or null to remove it)");
      if (v != null && ((String) v).length() > MAX_SECRET_LENGTH) {
        throw new IllegalArgumentException("The value of " + key + " is longer than " + MAX_SECRET_LENGTH + " characters");
      }
      checked.put(key, (String) v);
    }
    List<String> changed = store.putSecrets(service, checked);
    if (!changed.isEmpty()) log.info("Secrets of {} changed: {}", service, changed);
    return changed;
  }

  /** Removes secret {@code key} of {@code service}; false if it was not set. */
  public boolean unsetSecret(String service, String key) {
    Map<String, String> remove = new LinkedHashMap<>();
    remove.put(key, null);
    boolean removed = !store.putSecrets(service, remove).isEmpty();
    if (removed) log.info("Secret {} of {} removed", key, service);
    return removed;
  }

  /** Whether the platform keeps anything for {@code service}: a secret or a database. */
  public boolean has(String service) {
    return !store.secretInfos(service).isEmpty() || !store.databases(service).isEmpty();
  }

  /** {@code service}'s databases (passwords only if {@code reveal}) and its secrets' names. */
  public JsonObject describe(String service, boolean reveal) {
    return new JsonObject().put("service", service)
        .put("databases", new JsonArray(databases.list(service, reveal)))
        .put("secrets", secrets(service));
  }

  /** Drops {@code service}'s databases and forgets its secrets: what {@code DELETE ...?purge=true} does. */
  public JsonObject purge(String service) throws StageException {
    List<String> dropped = databases.drop(service, line -> log.info("Purging {}: {}", service, line));
    int secrets = store.deleteSecrets(service);
    log.info("Purged {}: dropped databases {}, removed {} secrets", service, dropped, secrets);
    return new JsonObject().put("databases", new JsonArray(dropped)).put("secrets", secrets);
  }

  /** Stops the embedded PostgreSQL, if it runs, and closes the store. */
  @Override
  public void close() {
    try {
      databases.close();
    } finally {
      store.close();
    }
  }
}
