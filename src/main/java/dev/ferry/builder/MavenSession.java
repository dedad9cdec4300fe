package dev.ferry.builder;

import dev.ferry.builder.DependencyResolver.Progress;
import dev.ferry.deployment.DeploymentLog.Level;
import dev.ferry.deployment.StageException;
import eu.maveniverse.maven.mima.context.Context;
import eu.maveniverse.maven.mima.context.ContextOverrides;
import eu.maveniverse.maven.mima.context.Runtimes;
import org.apache.maven.settings.Settings;
import org.apache.maven.settings.building.DefaultSettingsBuilderFactory;
import org.apache.maven.settings.building.DefaultSettingsBuildingRequest;
import org.apache.maven.settings.building.SettingsBuildingException;
import org.apache.maven.settings.building.SettingsBuildingResult;
import org.apache.maven.settings.building.SettingsProblem;
import org.eclipse.aether.DefaultRepositorySystemSession;
import org.eclipse.aether.RepositoryCache;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.collection.DependencySelector;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.repository.RepositoryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Maven as one resolution sees it: the effective settings.xml (the global one under the user's),
 * the local repository and offline mode they and Ferry's config decide, and a Maven Resolver
 * (a MIMA context) that applies their mirrors, proxies and server credentials to every remote
 * repository. Made afresh for each resolution and closed after it, so nothing a failed download
 * leaves behind (cached descriptors, "already tried" marks, connection pools) reaches the next build.
 */
final class MavenSession implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MavenSession.class);
  /** The repository Maven's super POM adds to every project; Ferry's {@code maven.remoteRepositories} take its place. */
  private static final String SUPER_POM_CENTRAL = "https://repo.maven.apache.org/maven2";

  final Path localRepository;
  final boolean offline;
  private final Context context;
  /** Settings profiles' repositories, then Ferry's: what the service pom's own repositories come before. */
  private final List<RemoteRepository> external;
  private final ClosingCache cache = new ClosingCache();
  private final Downloads downloads;

  private MavenSession(Context context, Path localRepository, boolean offline, Downloads downloads) {
    this.context = context;
    this.localRepository = localRepository;
    this.offline = offline;
    this.downloads = downloads;
    this.external = context.contextOverrides().getRepositories().stream().map(MavenSession::withChecksums).toList();
  }

  /** Reads the settings {@code setup} names and sets up Maven Resolver with them. */
  static MavenSession open(MavenSetup setup, Progress progress) throws StageException {
    Settings settings = settings(setup, progress);
    // as Maven: only active proxies count
    settings.getProxies().removeIf(p -> !p.isActive());
    Path local = setup.localRepository() != null ? setup.localRepository()
        : settings.getLocalRepository() != null ? Path.of(settings.getLocalRepository()).toAbsolutePath()
        : setup.defaultLocalRepository();
    boolean offline = setup.offline() || settings.isOffline();
    Context context;
    try {
      context = Runtimes.INSTANCE.getRuntime().create(ContextOverrides.create()
          .withUserSettings(true)
          .withEffectiveSettings(settings)
          .withLocalRepositoryOverride(local)
          .repositories(setup.remoteRepositories().stream().map(MavenSession::remote).toList())
          // the repositories of active settings profiles first, then Ferry's
          .addRepositoriesOp(ContextOverrides.AddRepositoriesOp.APPEND)
          // a dependency's own pom does not add repositories: the service's pom, settings.xml and Ferry's config decide
          .ignoreArtifactDescriptorRepositories(true)
          // file locks, so concurrent builds (and a mvn sharing the local repository) do not trip over each other
          .configProperties(Map.of("aether.syncContext.named.factory", "file-lock",
              "aether.syncContext.named.nameMapper", "file-gav"))
          .offline(offline)
          .build());
    } catch (RuntimeException e) {
      throw new StageException("Cannot set up Maven Resolver with " + describe(setup) + ": " + rootMessage(e), e);
    }
    progress.line(Level.INFO, "Maven settings " + describe(setup) + "; local repository " + local + (offline ? "; offline" : ""));
    return new MavenSession(context, local, offline, new Downloads(progress));
  }

  /**
   * What decides a resolution besides the pom: Ferry's {@code maven.*} config and the bytes of the
   * settings files. A change to either resolves again.
   */
  static String fingerprint(MavenSetup setup) {
    MessageDigest sha = sha256();
    sha.update((setup.localRepository() + "|" + setup.defaultLocalRepository() + "|" + setup.remoteRepositories() + "|"
        + setup.offline()).getBytes(StandardCharsets.UTF_8));
    for (Path f : new Path[] {setup.globalSettings(), setup.userSettings()}) {
      sha.update(("|" + f + "|").getBytes(StandardCharsets.UTF_8));
      try {
        if (f != null && Files.isRegularFile(f)) sha.update(Files.readAllBytes(f));
      } catch (IOException e) {
        sha.update(e.toString().getBytes(StandardCharsets.UTF_8));
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The effective settings: the global file under the user's, interpolated with system properties and {@code env.*}. */
  private static Settings settings(MavenSetup setup, Progress progress) throws StageException {
    DefaultSettingsBuildingRequest request = new DefaultSettingsBuildingRequest();
    if (setup.globalSettings() != null) request.setGlobalSettingsFile(setup.globalSettings().toFile());
    request.setUserSettingsFile(setup.userSettings().toFile());
    Properties system = new Properties();
    System.getenv().forEach((k, v) -> system.setProperty("env." + k, v));
    system.putAll(System.getProperties());
    request.setSystemProperties(system);
    try {
      SettingsBuildingResult result = new DefaultSettingsBuilderFactory().newInstance().build(request);
      for (SettingsProblem p : result.getProblems()) progress.line(Level.WARN, problem(p));
      return result.getEffectiveSettings();
    } catch (SettingsBuildingException e) {
      List<String> lines = new ArrayList<>();
      for (SettingsProblem p : e.getProblems()) {
        if (p.getSeverity() != SettingsProblem.Severity.WARNING) lines.add(problem(p));
      }
      throw new StageException("Cannot read the Maven settings (" + describe(setup) + "):\n" + String.join("\n", lines));
    }
  }

  private static String problem(SettingsProblem p) {
    return p.getSource() + (p.getLineNumber() > 0 ? ":" + p.getLineNumber() : "") + ": " + p.getMessage();
  }

  private static String describe(MavenSetup setup) {
    return (Files.isRegularFile(setup.userSettings()) ? "" : "(none) ") + setup.userSettings()
        + (setup.globalSettings() == null ? "" : " over " + setup.globalSettings());
  }

  /** A {@code maven.remoteRepositories} entry as a repository: {@value DependencyResolver#CENTRAL} or a URL. */
  static RemoteRepository remote(String spec) {
    if (spec.equals(DependencyResolver.CENTRAL)) return withChecksums(ContextOverrides.CENTRAL);
    String url = spec.endsWith("/") ? spec : spec + "/";
    if (!url.matches("(?i)(https?|file):.*")) {
      throw new IllegalArgumentException("maven.remoteRepositories: not an http(s) or file URL: " + spec);
    }
    String id = "repo-" + HexFormat.of().formatHex(sha256().digest(url.getBytes(StandardCharsets.UTF_8))).substring(0, 8);
    return withChecksums(new RemoteRepository.Builder(id, "default", url).build());
  }

  /**
   * Checksums are checked strictly over the network (a mismatch fails the build, as {@code mvn -C});
   * a {@code file:} repository is often a copy of a local one, which keeps no checksums, so they are not checked there.
   */
  private static RemoteRepository withChecksums(RemoteRepository r) {
    String checksums = "file".equalsIgnoreCase(r.getProtocol()) ? RepositoryPolicy.CHECKSUM_POLICY_IGNORE : RepositoryPolicy.CHECKSUM_POLICY_FAIL;
    UnaryOperator<RepositoryPolicy> strict = p -> new RepositoryPolicy(p.isEnabled(), p.getUpdatePolicy(), checksums);
    return new RemoteRepository.Builder(r).setReleasePolicy(strict.apply(r.getPolicy(false)))
        .setSnapshotPolicy(strict.apply(r.getPolicy(true))).build();
  }

  /** A repository a pom declares, or null for the super POM's Central (Ferry's configured repositories replace it). */
  static RemoteRepository declared(org.apache.maven.model.Repository r) {
    if ("central".equals(r.getId()) && SUPER_POM_CENTRAL.equals(r.getUrl())) return null;
    RemoteRepository.Builder b = new RemoteRepository.Builder(r.getId(), r.getLayout(), r.getUrl());
    b.setReleasePolicy(new RepositoryPolicy(r.getReleases() == null || r.getReleases().isEnabled(), null, null));
    b.setSnapshotPolicy(new RepositoryPolicy(r.getSnapshots() == null || r.getSnapshots().isEnabled(), null, null));
    return withChecksums(b.build());
  }

  /**
   * The repositories to resolve from: those the service's pom declares (in its order, parents after),
   * then settings profiles' and Ferry's; each behind its mirror, with its proxy and credentials.
   */
  List<RemoteRepository> repositories(List<RemoteRepository> declaredByPom) {
    Map<String, RemoteRepository> byId = new LinkedHashMap<>();
    for (RemoteRepository r : declaredByPom) byId.putIfAbsent(r.getId(), r);
    for (RemoteRepository r : external) byId.putIfAbsent(r.getId(), r);
    return context.repositorySystem().newResolutionRepositories(session(null), new ArrayList<>(byId.values()));
  }

  RepositorySystem system() {
    return context.repositorySystem();
  }

  /** A session of this resolution; {@code selector}, when set, wraps the default dependency selector. */
  RepositorySystemSession session(UnaryOperator<DependencySelector> selector) {
    DefaultRepositorySystemSession s = new DefaultRepositorySystemSession(context.repositorySystemSession());
    s.setCache(cache);
    s.setRepositoryListener(downloads);
    if (selector != null) s.setDependencySelector(selector.apply(s.getDependencySelector()));
    return s;
  }

  /** Reads parents and imported BOMs through this session's repositories. */
  PomModelResolver modelResolver() {
    return new PomModelResolver(this, session(null), List.of());
  }

  /** Reports the downloads of this resolution (if any) and releases what it holds. */
  @Override
  public void close() {
    downloads.summary();
    cache.close();
    try {
      context.close();
    } catch (RuntimeException e) {
      log.warn("Could not close the Maven Resolver context", e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return String.valueOf(root.getMessage());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The session cache of one resolution: closes what it holds (the HTTP transport keeps its connection pools there). */
  private static final class ClosingCache implements RepositoryCache {
    private final Map<Object, Object> data = new ConcurrentHashMap<>();

    @Override
    public void put(RepositorySystemSession session, Object key, Object value) {
      if (value == null) data.remove(key);
      else data.put(key, value);
    }

    @Override
    public Object get(RepositorySystemSession session, Object key) {
      return data.get(key);
    }

    void close() {
      for (Object value : data.values()) {
        if (value instanceof Closeable c) {
          try {
            c.close();
          } catch (IOException | RuntimeException e) {
            log.debug("Could not close {}", c, e);
          }
        }
      }
      data.clear();
    }
  }
}
