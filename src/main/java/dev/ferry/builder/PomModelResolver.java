package dev.ferry.builder;

import org.apache.maven.model.Dependency;
import org.apache.maven.model.Parent;
import org.apache.maven.model.Repository;
import org.apache.maven.model.building.FileModelSource;
import org.apache.maven.model.building.ModelSource;
import org.apache.maven.model.resolution.ModelResolver;
import org.apache.maven.model.resolution.UnresolvableModelException;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactRequest;
import org.eclipse.aether.resolution.ArtifactResolutionException;
import org.eclipse.aether.resolution.VersionRangeRequest;
import org.eclipse.aether.resolution.VersionRangeResolutionException;
import org.eclipse.aether.resolution.VersionRangeResult;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the poms a service's pom points at (its parent, imported BOMs) through Maven Resolver, as
 * Maven's own project model resolver does: from the repositories the poms declare (as the model
 * builder meets them), then those of settings profiles and Ferry's config, all behind the mirrors.
 */
@SuppressWarnings("deprecation") // ModelResolver, which Maven 3.9's model builder calls, still returns ModelSource
final class PomModelResolver implements ModelResolver {

  private final MavenSession maven;
  private final RepositorySystemSession session;
  private final List<RemoteRepository> declared;
  private List<RemoteRepository> repositories;

  PomModelResolver(MavenSession maven, RepositorySystemSession session, List<RemoteRepository> declared) {
    this.maven = maven;
    this.session = session;
    this.declared = new ArrayList<>(declared);
    this.repositories = maven.repositories(this.declared);
  }

  @Override
  public ModelSource resolveModel(String groupId, String artifactId, String version) throws UnresolvableModelException {
    Artifact pom = new DefaultArtifact(groupId, artifactId, "", "pom", version);
    try {
      pom = maven.system().resolveArtifact(session, new ArtifactRequest(pom, repositories, null)).getArtifact();
    } catch (ArtifactResolutionException e) {
      throw new UnresolvableModelException(ResolutionFailure.explain(e), groupId, artifactId, version, e);
    }
    return new FileModelSource(pom.getFile());
  }

  @Override
  public ModelSource resolveModel(Parent parent) throws UnresolvableModelException {
    String version = highest(parent.getGroupId(), parent.getArtifactId(), parent.getVersion());
    parent.setVersion(version);
    return resolveModel(parent.getGroupId(), parent.getArtifactId(), version);
  }

  @Override
  public ModelSource resolveModel(Dependency dependency) throws UnresolvableModelException {
    String version = highest(dependency.getGroupId(), dependency.getArtifactId(), dependency.getVersion());
    dependency.setVersion(version);
    return resolveModel(dependency.getGroupId(), dependency.getArtifactId(), version);
  }

  /** {@code version} itself, or the highest version in it when it is a range. */
  private String highest(String groupId, String artifactId, String version) throws UnresolvableModelException {
    if (version == null || !(version.startsWith("[") || version.startsWith("("))) return version;
    try {
      VersionRangeResult r = maven.system().resolveVersionRange(session,
          new VersionRangeRequest(new DefaultArtifact(groupId, artifactId, "", "pom", version), repositories, null));
      if (r.getHighestVersion() == null) {
        throw new UnresolvableModelException("No version of " + groupId + ":" + artifactId + " matches " + version,
            groupId, artifactId, version);
      }
      return r.getHighestVersion().toString();
    } catch (VersionRangeResolutionException e) {
      throw new UnresolvableModelException(e.getMessage(), groupId, artifactId, version, e);
    }
  }

  @Override
  public void addRepository(Repository repository) {
    addRepository(repository, false);
  }

  @Override
  public void addRepository(Repository repository, boolean replace) {
    RemoteRepository r = MavenSession.declared(repository);
    if (r == null) return;
    if (declared.stream().anyMatch(d -> d.getId().equals(r.getId()))) {
      if (!replace) return;
      declared.removeIf(d -> d.getId().equals(r.getId()));
    }
    declared.add(r);
    repositories = maven.repositories(declared);
  }

  @Override
  public ModelResolver newCopy() {
    return new PomModelResolver(maven, session, declared);
  }
}
