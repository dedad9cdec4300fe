package dev.ferry.builder;

import dev.ferry.deployment.DeploymentLog.Level;
import dev.ferry.deployment.StageException;
import io.vertx.core.json.JsonObject;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.ArtifactType;
import org.eclipse.aether.artifact.ArtifactTypeRegistry;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.artifact.DefaultArtifactType;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.graph.Exclusion;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarFile;

/**
 * Reads a service's {@code pom.xml} and resolves what it depends on, in-process with Maven Resolver
 * (through MIMA), as Maven would with the same settings.xml: into one local repository shared by
 * every build, from the repositories the pom, settings profiles and Ferry's config name, behind the
 * mirrors, proxies and credentials of settings.xml (or offline). Artifacts the platform shares are
 * left out. Results are kept by the sha256 of the pom and of that setup (in memory and on disk), so a
 * redeploy with the same pom resolves nothing. Blocks: call it from a worker thread.
 */
public final class DependencyResolver {

  /** Where resolution reports its steps. */
  @FunctionalInterface
  public interface Progress {
    void line(Level level, String message);
  }

  /** The word that stands for Maven Central in {@code maven.remoteRepositories}. */
  public static final String CENTRAL = "central";

  private static final Logger log = LoggerFactory.getLogger(DependencyResolver.class);
  private static final String PROCESSOR_SERVICE = "META-INF/services/javax.annotation.processing.Processor";

  private final MavenSetup setup;
  private final Path cacheDir;
  private final Map<String, Resolution> cache = new ConcurrentHashMap<>();
  private final AtomicInteger resolutions = new AtomicInteger();

  /**
   * @param setup where dependencies come from (refuses a {@code maven.remoteRepositories} entry that is no repository)
   * @param cacheDir where resolution results are kept by the pom's hash
   */
  public DependencyResolver(MavenSetup setup, Path cacheDir) {
    setup.remoteRepositories().forEach(MavenSession::remote);
    this.setup = setup;
    this.cacheDir = cacheDir;
  }

  /** How many times a pom was really resolved (not answered from the cache). */
  public int resolutions() {
    return resolutions.get();
  }

  /** Reads {@code serviceRoot/pom.xml} (if any) and resolves what it asks for. */
  Resolution resolve(Path serviceRoot, Progress progress) throws StageException {
    Path pomFile = serviceRoot.resolve("pom.xml");
    if (!Files.isRegularFile(pomFile)) {
      progress.line(Level.INFO, "No pom.xml: compiling against the platform's libraries only");
      return Resolution.NONE;
    }
    String key;
    try {
      byte[] pom = Files.readAllBytes(pomFile);
      key = HexFormat.of().formatHex(sha256(concat(pom, MavenSession.fingerprint(setup).getBytes(StandardCharsets.UTF_8))));
    } catch (IOException e) {
      throw new StageException("Cannot read pom.xml: " + e.getMessage(), e);
    }
    Optional<Resolution> known = cached(key);
    if (known.isPresent()) {
      Resolution r = known.get();
      progress.line(Level.INFO, "pom.xml unchanged (sha256 " + key.substring(0, 12) + "): reusing " + r.bundled().size()
          + " resolved dependencies, nothing to resolve");
      r.warnings().forEach(w -> progress.line(Level.WARN, w));
      return r;
    }
    long t0 = System.nanoTime();
    Resolution r;
    try (MavenSession maven = MavenSession.open(setup, progress)) {
      r = resolveFresh(pomFile, maven, progress);
    }
    resolutions.incrementAndGet();
    progress.line(Level.INFO, "Resolved in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    remember(key, r);
    return r;
  }

  private Resolution resolveFresh(Path pomFile, MavenSession maven, Progress progress) throws StageException {
    Map<String, String> asked = new ConcurrentHashMap<>();
    RepositorySystemSession pruning = maven.session(next -> new SharedArtifacts.Pruner(next, asked));
    RepositorySystemSession plain = maven.session(null);

    progress.line(Level.INFO, "Reading pom.xml");
    ServicePom pom = ServicePom.read(pomFile, maven.modelResolver());
    int release = pom.release(Resolution.DEFAULT_RELEASE);
    List<org.apache.maven.model.Dependency> declared = pom.dependencies();
    List<RemoteRepository> repositories = maven.repositories(
        pom.repositories().stream().map(MavenSession::declared).filter(java.util.Objects::nonNull).toList());
    progress.line(Level.INFO, pom.coordinates() + " declares " + declared.size() + " dependencies; resolving from "
        + String.join(", ", repositories.stream().map(ResolutionFailure::describe).toList())
        + (maven.offline ? " (offline: the local repository alone)" : ""));

    ArtifactTypeRegistry types = pruning.getArtifactTypeRegistry();
    List<Dependency> managed = pom.managedDependencies().stream().map(d -> dependency(d, types)).toList();
    List<Path> bundled = new ArrayList<>();
    List<Path> compileOnly = new ArrayList<>();
    for (ArtifactResult ar : resolve(maven, pruning, repositories, declared.stream().map(d -> dependency(d, types)).toList(), managed)) {
      Path file = ar.getArtifact().getFile().toPath();
      if (!file.getFileName().toString().endsWith(".jar")) continue;
      String scope = ar.getRequest().getDependencyNode().getDependency().getScope();
      (JavaScopes.PROVIDED.equals(scope) ? compileOnly : bundled).add(file);
    }

    List<String> warnings = new ArrayList<>();
    new java.util.TreeMap<>(asked).forEach((ga, version) -> sharedWarning(ga, version).ifPresent(warnings::add));
    warnings.forEach(w -> progress.line(Level.WARN, w));
    progress.line(Level.INFO, bundled.isEmpty() ? "Bundling no dependencies"
        : "Bundling " + bundled.size() + " dependencies: " + String.join(", ", bundled.stream().map(p -> p.getFileName().toString()).toList()));
    if (!compileOnly.isEmpty()) {
      progress.line(Level.INFO, "Provided (compile only): " + String.join(", ", compileOnly.stream().map(p -> p.getFileName().toString()).toList()));
    }

    List<Path> processorPath = new ArrayList<>();
    boolean onClasspath = false;
    if (!pom.procNone()) {
      List<Dependency> processors = new ArrayList<>();
      for (org.apache.maven.model.Dependency d : pom.processorPaths()) processors.add(processorDependency(d, pom, types));
      if (!processors.isEmpty()) {
        for (ArtifactResult ar : resolve(maven, plain, repositories, processors, managed)) processorPath.add(ar.getArtifact().getFile().toPath());
        progress.line(Level.INFO, "Annotation processor path: " + String.join(", ", processorPath.stream().map(p -> p.getFileName().toString()).toList()));
      } else {
        onClasspath = hasProcessors(bundled) || hasProcessors(compileOnly);
        if (onClasspath) progress.line(Level.INFO, "Running the annotation processors found on the classpath");
      }
    }
    return new Resolution(pom.mainVerticle(), pom.readinessPath(), release, pom.parameters(), bundled, compileOnly, processorPath,
        pom.processorNames(), onClasspath, warnings, pom.runSettings());
  }

  private static List<ArtifactResult> resolve(MavenSession maven, RepositorySystemSession session, List<RemoteRepository> repositories,
                                              List<Dependency> dependencies, List<Dependency> managed) throws StageException {
    if (dependencies.isEmpty()) return List.of();
    CollectRequest collect = new CollectRequest(dependencies, managed, repositories);
    DependencyRequest request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.COMPILE, JavaScopes.RUNTIME));
    try {
      return maven.system().resolveDependencies(session, request).getArtifactResults();
    } catch (DependencyResolutionException e) {
      throw new StageException("Cannot resolve the dependencies of pom.xml:\n" + ResolutionFailure.explain(e), e);
    }
  }

  private static Optional<String> sharedWarning(String ga, String version) {
    String[] parts = ga.split(":");
    Optional<String> platform = SharedArtifacts.platformVersion(parts[0], parts[1]);
    if (platform.isEmpty()) {
      return Optional.of(ga + ":" + version + " is in a package the platform shares but does not carry: it is left out");
    }
    if (ga.equals(SharedArtifacts.SDK) || platform.get().equals(version)) return Optional.empty();
    return Optional.of(ga + ":" + version + " is shared with the platform, which provides " + platform.get()
        + ": the service runs against " + platform.get());
  }

  private static Dependency dependency(org.apache.maven.model.Dependency d, ArtifactTypeRegistry types) {
    String typeId = d.getType() == null ? "jar" : d.getType();
    ArtifactType type = Optional.ofNullable(types.get(typeId)).orElseGet(() -> new DefaultArtifactType(typeId));
    Artifact a = new DefaultArtifact(d.getGroupId(), d.getArtifactId(), d.getClassifier(), null, d.getVersion(), type);
    List<Exclusion> exclusions = d.getExclusions().stream()
        .map(x -> new Exclusion(x.getGroupId(), x.getArtifactId(), "*", "*")).toList();
    return new Dependency(a, d.getScope() == null ? JavaScopes.COMPILE : d.getScope(), d.isOptional(), exclusions);
  }

  private static Dependency processorDependency(org.apache.maven.model.Dependency d, ServicePom pom, ArtifactTypeRegistry types)
      throws StageException {
    if (d.getGroupId() == null || d.getArtifactId() == null) {
      throw new StageException("pom.xml: an annotationProcessorPaths entry lacks groupId or artifactId");
    }
    if (d.getVersion() == null) {
      pom.managedDependencies().stream()
          .filter(m -> m.getGroupId().equals(d.getGroupId()) && m.getArtifactId().equals(d.getArtifactId()))
          .findFirst().ifPresent(m -> d.setVersion(m.getVersion()));
    }
    if (d.getVersion() == null) {
      throw new StageException("pom.xml: annotation processor " + d.getGroupId() + ":" + d.getArtifactId() + " has no version");
    }
    return dependency(d, types);
  }

  private static boolean hasProcessors(List<Path> jars) {
    for (Path jar : jars) {
      try (JarFile f = new JarFile(jar.toFile())) {
        if (f.getEntry(PROCESSOR_SERVICE) != null) return true;
      } catch (IOException e) {
        log.debug("Cannot open {}", jar, e);
      }
    }
    return false;
  }

  private Optional<Resolution> cached(String key) {
    Resolution r = cache.get(key);
    if (r == null) {
      Path file = cacheDir.resolve(key + ".json");
      if (Files.isRegularFile(file)) {
        try {
          r = Resolution.fromJson(new JsonObject(Files.readString(file)));
        } catch (IOException | RuntimeException e) {
          log.warn("Ignoring unreadable resolution cache {}", file, e);
        }
      }
    }
    if (r == null || !r.present()) return Optional.empty();
    cache.put(key, r);
    return Optional.of(r);
  }

  private void remember(String key, Resolution r) {
    cache.put(key, r);
    try {
      Files.createDirectories(cacheDir);
      Path tmp = Files.createTempFile(cacheDir, key, ".tmp");
      Files.writeString(tmp, r.toJson().encode());
      Files.move(tmp, cacheDir.resolve(key + ".json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.warn("Could not store the resolution of {} on disk", key, e);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
