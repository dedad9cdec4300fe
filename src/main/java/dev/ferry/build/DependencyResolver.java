package dev.ferry.build;

import dev.ferry.deployment.DeploymentLog.Level;
import dev.ferry.deployment.StageException;
import eu.maveniverse.maven.mima.context.Context;
import eu.maveniverse.maven.mima.context.ContextOverrides;
import eu.maveniverse.maven.mima.context.Runtimes;
import io.vertx.core.json.JsonObject;
import org.eclipse.aether.AbstractRepositoryListener;
import org.eclipse.aether.DefaultRepositorySystemSession;
import org.eclipse.aether.RepositoryEvent;
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
import org.eclipse.aether.repository.RepositoryPolicy;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.resolution.DependencyResult;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarFile;

/**
 * Reads a service's {@code pom.xml} and resolves what it depends on, in-process with Maven Resolver
 * (through MIMA), into one local repository shared by every build, from the configured remote
 * repositories (or none, offline). Artifacts the platform shares are left out. Results are kept
 * by the pom's sha256 (in memory and on disk), so a redeploy with the same pom resolves nothing.
 * Blocks: call it from a worker thread.
 */
public final class DependencyResolver implements AutoCloseable {

  /** Where resolution reports its steps. */
  @FunctionalInterface
  public interface Progress {
    void line(Level level, String message);
  }

  /** The word that stands for Maven Central in {@code maven.remoteRepositories}. */
  public static final String CENTRAL = "central";

  private static final Logger log = LoggerFactory.getLogger(DependencyResolver.class);
  private static final String PROCESSOR_SERVICE = "META-INF/services/javax.annotation.processing.Processor";

  private final Path localRepository;
  private final List<RemoteRepository> remotes;
  private final boolean offline;
  private final Path cacheDir;
  private final String fingerprint;
  private final Map<String, Resolution> cache = new ConcurrentHashMap<>();
  private final AtomicInteger resolutions = new AtomicInteger();
  private Context context;

  /**
   * @param localRepository the local repository every build shares
   * @param remoteRepositories URLs, or {@value #CENTRAL} for Maven Central
   * @param offline resolve from the local repository alone
   * @param cacheDir where resolution results are kept by the pom's hash
   */
  public DependencyResolver(Path localRepository, List<String> remoteRepositories, boolean offline, Path cacheDir) {
    this.localRepository = localRepository.toAbsolutePath().normalize();
    this.remotes = remoteRepositories.stream().map(DependencyResolver::remote).toList();
    this.offline = offline;
    this.cacheDir = cacheDir;
    this.fingerprint = remotes.stream().map(RemoteRepository::getUrl).toList() + (offline ? " offline" : "");
  }

  private static RemoteRepository remote(String spec) {
    if (spec.equals(CENTRAL)) return ContextOverrides.CENTRAL;
    String url = spec.endsWith("/") ? spec : spec + "/";
    if (!url.matches("(?i)(https?|file):.*")) {
      throw new IllegalArgumentException("maven.remoteRepositories: not an http(s) or file URL: " + spec);
    }
    String id = "repo-" + HexFormat.of().formatHex(sha256(url.getBytes(StandardCharsets.UTF_8))).substring(0, 8);
    RemoteRepository.Builder b = new RemoteRepository.Builder(id, "default", url);
    // a file repository is often a copy of a local one, which keeps no checksums
    if (url.regionMatches(true, 0, "file:", 0, 5)) {
      b.setPolicy(new RepositoryPolicy(true, RepositoryPolicy.UPDATE_POLICY_DAILY, RepositoryPolicy.CHECKSUM_POLICY_IGNORE));
    }
    return b.build();
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
      key = HexFormat.of().formatHex(sha256(concat(pom, fingerprint.getBytes(StandardCharsets.UTF_8))));
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
    Resolution r = resolveFresh(pomFile, progress);
    resolutions.incrementAndGet();
    progress.line(Level.INFO, "Resolved in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    remember(key, r);
    return r;
  }

  private Resolution resolveFresh(Path pomFile, Progress progress) throws StageException {
    Context ctx = context();
    Map<String, String> asked = new ConcurrentHashMap<>();
    RepositorySystemSession pruning = session(ctx, progress, asked);
    RepositorySystemSession plain = session(ctx, progress, null);

    progress.line(Level.INFO, "Reading pom.xml");
    ServicePom pom = ServicePom.read(pomFile, new PomModelResolver(ctx.repositorySystem(), plain, remotes));
    int release = pom.release(Resolution.DEFAULT_RELEASE);
    List<org.apache.maven.model.Dependency> declared = pom.dependencies();
    progress.line(Level.INFO, pom.coordinates() + " declares " + declared.size() + " dependencies; resolving from "
        + String.join(", ", remotes.stream().map(r -> r.getId() + " (" + r.getUrl() + ")").toList())
        + (offline ? " offline, from " + localRepository + " alone" : "") + "");

    ArtifactTypeRegistry types = pruning.getArtifactTypeRegistry();
    List<Dependency> managed = pom.managedDependencies().stream().map(d -> dependency(d, types)).toList();
    List<Path> bundled = new ArrayList<>();
    List<Path> compileOnly = new ArrayList<>();
    for (ArtifactResult ar : resolve(ctx, pruning, declared.stream().map(d -> dependency(d, types)).toList(), managed)) {
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
        for (ArtifactResult ar : resolve(ctx, plain, processors, managed)) processorPath.add(ar.getArtifact().getFile().toPath());
        progress.line(Level.INFO, "Annotation processor path: " + String.join(", ", processorPath.stream().map(p -> p.getFileName().toString()).toList()));
      } else {
        onClasspath = hasProcessors(bundled) || hasProcessors(compileOnly);
        if (onClasspath) progress.line(Level.INFO, "Running the annotation processors found on the classpath");
      }
    }
    return new Resolution(pom.mainVerticle(), pom.readinessPath(), release, pom.parameters(), bundled, compileOnly, processorPath,
        pom.processorNames(), onClasspath, warnings, pom.runSettings());
  }

  private List<ArtifactResult> resolve(Context ctx, RepositorySystemSession session, List<Dependency> dependencies,
                                       List<Dependency> managed) throws StageException {
    if (dependencies.isEmpty()) return List.of();
    CollectRequest collect = new CollectRequest(dependencies, managed, remotes);
    DependencyRequest request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.COMPILE, JavaScopes.RUNTIME));
    try {
      return ctx.repositorySystem().resolveDependencies(session, request).getArtifactResults();
    } catch (DependencyResolutionException e) {
      throw new StageException(failure(e), e);
    }
  }

  /** Names every artifact that could not be had, and why. */
  private static String failure(DependencyResolutionException e) {
    Set<String> lines = new LinkedHashSet<>();
    DependencyResult r = e.getResult();
    if (r != null) {
      for (Exception x : r.getCollectExceptions()) lines.add(explain(x));
      for (ArtifactResult ar : r.getArtifactResults()) {
        if (!ar.isResolved()) ar.getExceptions().forEach(x -> lines.add(explain(x)));
      }
    }
    if (lines.isEmpty()) lines.add(explain(e));
    return "Cannot resolve the dependencies of pom.xml:\n" + String.join("\n", lines);
  }

  private static String explain(Throwable x) {
    Throwable root = x;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String m = String.valueOf(x.getMessage());
    return root == x || m.contains(String.valueOf(root.getMessage())) ? m : m + ": " + root.getMessage();
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

  /** A session for one resolution: logs downloads to {@code progress}; prunes shared artifacts when {@code asked} is set. */
  private static RepositorySystemSession session(Context ctx, Progress progress, Map<String, String> asked) {
    DefaultRepositorySystemSession s = new DefaultRepositorySystemSession(ctx.repositorySystemSession());
    if (asked != null) s.setDependencySelector(new SharedArtifacts.Pruner(s.getDependencySelector(), asked));
    s.setRepositoryListener(new AbstractRepositoryListener() {
      @Override
      public void artifactDownloaded(RepositoryEvent event) {
        Artifact a = event.getArtifact();
        if (event.getException() != null || a == null || !"jar".equals(a.getExtension())) return;
        long kib = a.getFile() == null ? 0 : a.getFile().length() / 1024;
        progress.line(Level.INFO, "Downloaded " + a + " (" + kib + " KiB) from " + event.getRepository().getId());
      }
    });
    return s;
  }

  private synchronized Context context() {
    if (context == null) {
      context = Runtimes.INSTANCE.getRuntime().create(ContextOverrides.create()
          .withLocalRepositoryOverride(localRepository)
          .repositories(remotes)
          .addRepositoriesOp(ContextOverrides.AddRepositoriesOp.REPLACE)
          .ignoreArtifactDescriptorRepositories(true)
          .offline(offline)
          .build());
      log.info("Maven resolver ready: local repository {}, remote {}{}", localRepository,
          remotes.stream().map(RemoteRepository::getUrl).toList(), offline ? " (offline)" : "");
    }
    return context;
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

  @Override
  public synchronized void close() {
    if (context != null) {
      context.close();
      context = null;
    }
  }
}
