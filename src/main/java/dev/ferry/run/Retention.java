package dev.ferry.run;

import dev.ferry.DataDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Which files a service keeps: the artifacts of its newest {@code keep} deployments (ids are
 * time-ordered) and of any deployment still running; older artifacts and their build dirs go.
 * The ledger keeps the history; a rollback to a deployment whose artifact is gone is refused.
 * Every method blocks.
 */
public final class Retention {

  private static final Logger log = LoggerFactory.getLogger(Retention.class);
  private static final String JAR = ".jar";

  private final DataDir dataDir;
  private final int keep;

  public Retention(DataDir dataDir, int keep) {
    if (keep < 1) throw new IllegalArgumentException("Retention must keep at least 1 artifact: " + keep);
    this.dataDir = dataDir;
    this.keep = keep;
  }

  /** Deletes the artifacts (and build dirs) of {@code service} but the newest and the {@code running}; returns how many. */
  public int keepLatest(String service, Set<String> running) throws IOException {
    List<String> ids = artifactIds(service);
    int deleted = 0;
    for (int i = keep; i < ids.size(); i++) {
      String id = ids.get(i);
      if (running.contains(id)) continue;
      Files.deleteIfExists(dataDir.artifact(service, id));
      deleteTree(dataDir.build(id));
      deleted++;
    }
    if (deleted > 0) log.info("Retention: deleted {} old artifacts of {}", deleted, service);
    return deleted;
  }

  /** Deletes every file of {@code service}: its artifacts and their build dirs. */
  public void deleteAll(String service) throws IOException {
    for (String id : artifactIds(service)) deleteTree(dataDir.build(id));
    deleteTree(dataDir.artifacts(service));
  }

  /** The ids of the service's artifacts on disk, newest first. */
  private List<String> artifactIds(String service) throws IOException {
    Path dir = dataDir.artifacts(service);
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(JAR))
          .map(n -> n.substring(0, n.length() - JAR.length())).sorted(Comparator.reverseOrder()).toList();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  /** {@link #deleteTree}, for what may stay behind when it cannot be deleted (a runner's or a build's scratch files). */
  static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException e) {
      org.slf4j.LoggerFactory.getLogger(Retention.class).debug("Could not delete {}: {}", dir, e.toString());
    }
  }
}
