package dev.ferry.build;

import org.apache.maven.model.Dependency;
import org.apache.maven.model.Parent;
import org.apache.maven.model.Repository;
import org.apache.maven.model.building.FileModelSource;
import org.apache.maven.model.building.ModelSource;
import org.apache.maven.model.resolution.ModelResolver;
import org.apache.maven.model.resolution.UnresolvableModelException;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactRequest;
import org.eclipse.aether.resolution.ArtifactResolutionException;
import org.eclipse.aether.resolution.VersionRangeRequest;
import org.eclipse.aether.resolution.VersionRangeResolutionException;
import org.eclipse.aether.resolution.VersionRangeResult;

import java.util.List;

/**
 * Finds the poms a service's pom points at (its parent, imported BOMs) through Maven Resolver.
 * Repositories a pom declares are ignored: where code comes from is the platform's config.
 */
final class PomModelResolver implements ModelResolver {

  private final RepositorySystem system;
  private final RepositorySystemSession session;
  private final List<RemoteRepository> repositories;

  PomModelResolver(RepositorySystem system, RepositorySystemSession session, List<RemoteRepository> repositories) {
    this.system = system;
    this.session = session;
    this.repositories = repositories;
  }

  @Override
  public ModelSource resolveModel(String groupId, String artifactId, String version) throws UnresolvableModelException {
    Artifact pom = new DefaultArtifact(groupId, artifactId, "", "pom", version);
    try {
      pom = system.resolveArtifact(session, new ArtifactRequest(pom, repositories, null)).getArtifact();
    } catch (ArtifactResolutionException e) {
      throw new UnresolvableModelException(e.getMessage(), groupId, artifactId, version, e);
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
      VersionRangeResult r = system.resolveVersionRange(session,
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
    // ignored: repositories come from the platform's config
  }

  @Override
  public void addRepository(Repository repository, boolean replace) {
    // ignored: repositories come from the platform's config
  }

  @Override
  public ModelResolver newCopy() {
    return this;
  }
}
