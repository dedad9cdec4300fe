package dev.ferry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The layout of the data dir: {@code uploads/<id>.tar.gz} (deleted once built),
 * {@code builds/<id>/} (extracted source and classes), {@code artifacts/<service>/<id>.jar},
 * {@code sdk/} (the jar services compile the SDK from), {@code maven/} (the default local Maven
 * repository), {@code resolutions/} (resolved dependencies by pom hash).
 * {@code sdk/} (the jar services compile the SDK from), {@code ledger.db} (the SQLite ledger),
 * {@code resources.db}, {@code secrets.key} and {@code postgres/} (services' resources).
 */
public record DataDir(Path root) {

  public DataDir {
    root = root.toAbsolutePath().normalize();
  }

  /** Creates the directories, failing with a clear message if the data dir is not writable. */
  public DataDir create() {
    try {
      for (Path p : new Path[] {uploads(), root.resolve("builds"), root.resolve("artifacts"), sdk()}) {
        Files.createDirectories(p);
      }
      Path probe = Files.createTempFile(root, ".probe", null);
      Files.delete(probe);
    } catch (IOException e) {
      throw new IllegalStateException("Data dir " + root + " is not writable: " + e, e);
    }
    return this;
  }

  public Path uploads() { return root.resolve("uploads"); }
  public Path upload(String id) { return uploads().resolve(id + ".tar.gz"); }
  public Path build(String id) { return root.resolve("builds").resolve(id); }
  public Path artifact(String service, String id) { return root.resolve("artifacts").resolve(service).resolve(id + ".jar"); }
  public Path artifacts(String service) { return root.resolve("artifacts").resolve(service); }
  public Path sdk() { return root.resolve("sdk"); }
  public Path resolutions() { return root.resolve("resolutions"); }
  /** One directory per runner process: its socket, its JVM's output, its registry entry. */
  public Path runners() { return root.resolve("runners"); }
  /** The ledger's SQLite file. */
  public Path ledger() { return root.resolve("ledger.db"); }
  /** The generated API token (mode 0600), when none is configured. */
  public Path token() { return root.resolve("token"); }
  /** Services' secrets and database credentials, encrypted (mode 0600): see {@code dev.ferry.resources}. */
  public Path resources() { return root.resolve("resources.db"); }
  /** The generated key secrets are encrypted with (mode 0600), when {@code FERRY_SECRETS_KEY} is not set. */
  public Path secretsKey() { return root.resolve("secrets.key"); }
  /** The embedded PostgreSQL: its binaries ({@code runtime/}), its cluster ({@code data/}) and {@code server.log}. */
  public Path postgres() { return root.resolve("postgres"); }
}
