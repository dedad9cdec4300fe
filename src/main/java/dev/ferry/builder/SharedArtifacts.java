package dev.ferry.builder;

import dev.ferry.common.Shared;
import org.eclipse.aether.collection.DependencyCollectionContext;
import org.eclipse.aether.collection.DependencySelector;
import org.eclipse.aether.graph.Dependency;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The artifacts the platform shares with every service ({@link Shared}): a service never bundles
 * them, it runs against the platform's versions.
 */
final class SharedArtifacts {

  /** Ferry's SDK, as a service may declare it. */
  static final String SDK = Shared.SDK_GROUP + ":" + Shared.SDK_ARTIFACT;

  private static final Map<String, Optional<String>> PLATFORM_VERSIONS = new ConcurrentHashMap<>();

  private SharedArtifacts() {
  }

  /** The version the platform carries, from the jar's Maven metadata; empty if it carries none. */
  static Optional<String> platformVersion(String groupId, String artifactId) {
    return PLATFORM_VERSIONS.computeIfAbsent(groupId + ":" + artifactId, ga -> {
      if (ga.equals(SDK)) return Optional.of("platform");
      String resource = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
      try (InputStream in = SharedArtifacts.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) return Optional.empty();
        Properties p = new Properties();
        p.load(in);
        return Optional.ofNullable(p.getProperty("version"));
      } catch (IOException e) {
        return Optional.empty();
      }
    });
  }

  /**
   * Leaves shared artifacts (and so everything they depend on) out of a dependency graph, noting
   * in {@code asked} the version the service's graph asked for each.
   */
  static final class Pruner implements DependencySelector {
    private final DependencySelector next;
    private final Map<String, String> asked;

    Pruner(DependencySelector next, Map<String, String> asked) {
      this.next = next;
      this.asked = asked;
    }

    @Override
    public boolean selectDependency(Dependency dependency) {
      var a = dependency.getArtifact();
      if (Shared.isSharedArtifact(a.getGroupId(), a.getArtifactId())) {
        asked.putIfAbsent(a.getGroupId() + ":" + a.getArtifactId(), a.getVersion());
        return false;
      }
      return next == null || next.selectDependency(dependency);
    }

    @Override
    public DependencySelector deriveChildSelector(DependencyCollectionContext context) {
      DependencySelector child = next == null ? null : next.deriveChildSelector(context);
      return child == next ? this : new Pruner(child, asked);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Pruner p && p.asked == asked && java.util.Objects.equals(p.next, next);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hashCode(next) * 31 + System.identityHashCode(asked);
    }
  }
}
