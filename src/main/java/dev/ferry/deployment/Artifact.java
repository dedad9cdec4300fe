package dev.ferry.deployment;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a build produced: the service's jar, the jars it bundles, the jar's sha256 and the entry
 * verticle named by the service (empty when the loader must discover it).
 */
public record Artifact(Path jar, List<Path> dependencies, String sha256, Optional<String> entry) {
  public Artifact {
    Objects.requireNonNull(jar, "jar");
    dependencies = List.copyOf(dependencies);
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(entry, "entry");
  }
}
