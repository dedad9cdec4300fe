package dev.ferry.builder;

import org.eclipse.aether.RepositoryException;
import org.eclipse.aether.collection.DependencyCollectionException;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactDescriptorException;
import org.eclipse.aether.resolution.ArtifactResolutionException;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.resolution.DependencyResult;
import org.eclipse.aether.transfer.ArtifactNotFoundException;
import org.eclipse.aether.transfer.ArtifactTransferException;
import org.eclipse.aether.transfer.ChecksumFailureException;
import org.eclipse.aether.transfer.RepositoryOfflineException;

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns what Maven Resolver throws into lines a person can act on, one per problem: an artifact not
 * found (with every repository tried), a repository that cannot be reached, a TLS failure, a 401 or
 * 403 (naming the settings.xml server id), a checksum mismatch, an artifact missing while offline.
 */
final class ResolutionFailure {

  private ResolutionFailure() {
  }

  /** One line per problem in {@code e} (a resolution or collection failure, or a single artifact's). */
  static String explain(RepositoryException e) {
    List<Throwable> leaves = new ArrayList<>();
    collect(e, leaves, Collections.newSetFromMap(new IdentityHashMap<>()));
    Map<String, List<String>> notFound = new LinkedHashMap<>();
    Set<String> lines = new LinkedHashSet<>();
    for (Throwable leaf : leaves) {
      if (leaf instanceof ArtifactNotFoundException nf && !offline(nf)) {
        List<String> repos = notFound.computeIfAbsent(String.valueOf(nf.getArtifact()), k -> new ArrayList<>());
        String repo = nf.getRepository() == null ? "?" : describe(nf.getRepository());
        if (!repos.contains(repo)) repos.add(repo);
      } else {
        lines.add(line(leaf));
      }
    }
    List<String> out = new ArrayList<>();
    notFound.forEach((artifact, repos) -> out.add(artifact + " was not found in " + String.join(", ", repos)));
    out.addAll(lines);
    // a jar that failed as its pom did says it once: the pom's line goes
    out.removeIf(l -> l.contains(":pom:") && out.contains(l.replace(":pom:", ":jar:")));
    if (out.isEmpty()) out.add(withRoot(e));
    return String.join("\n", out);
  }

  /** {@code id (url)}, and what it mirrors when it is a mirror. */
  static String describe(RemoteRepository r) {
    String mirrored = r.getMirroredRepositories().isEmpty() ? ""
        : ", mirror of " + String.join(", ", r.getMirroredRepositories().stream().map(RemoteRepository::getId).toList());
    return r.getId() + " (" + r.getUrl() + mirrored + ")";
  }

  /** The failures under {@code t}: Resolver nests them in results and causes. */
  private static void collect(Throwable t, List<Throwable> leaves, Set<Throwable> seen) {
    if (t == null || !seen.add(t)) return;
    if (t instanceof DependencyResolutionException d) {
      DependencyResult r = d.getResult();
      if (r != null) {
        r.getCollectExceptions().forEach(x -> collect(x, leaves, seen));
        for (ArtifactResult ar : r.getArtifactResults()) {
          if (!ar.isResolved()) ar.getExceptions().forEach(x -> collect(x, leaves, seen));
        }
      }
      if (leaves.isEmpty()) collect(d.getCause(), leaves, seen);
    } else if (t instanceof DependencyCollectionException c) {
      if (c.getResult() != null) c.getResult().getExceptions().forEach(x -> collect(x, leaves, seen));
      if (leaves.isEmpty()) collect(c.getCause(), leaves, seen);
    } else if (t instanceof ArtifactDescriptorException a) {
      int before = leaves.size();
      if (a.getResult() != null) a.getResult().getExceptions().forEach(x -> collect(x, leaves, seen));
      if (leaves.size() == before) collect(a.getCause(), leaves, seen);
    } else if (t instanceof ArtifactResolutionException a) {
      int before = leaves.size();
      for (ArtifactResult ar : a.getResults()) ar.getExceptions().forEach(x -> collect(x, leaves, seen));
      if (leaves.size() == before) leaves.add(a);
    } else {
      leaves.add(t);
    }
  }

  private static String line(Throwable leaf) {
    if (!(leaf instanceof ArtifactTransferException x) || x.getRepository() == null) return withRoot(leaf);
    String artifact = String.valueOf(x.getArtifact());
    RemoteRepository repo = x.getRepository();
    String where = describe(repo);
    if (offline(x)) {
      return artifact + " has not been downloaded before and resolution is offline (maven.offline, or <offline> in settings.xml)";
    }
    ChecksumFailureException checksum = find(x, ChecksumFailureException.class);
    if (checksum != null) return "Checksum mismatch for " + artifact + " from " + where + ": " + checksum.getMessage();
    int status = status(x);
    if (status == 401) {
      return where + " answered 401 Unauthorized for " + artifact + ": " + (repo.getAuthentication() == null
          ? "no <server> with id '" + repo.getId() + "' in settings.xml gives credentials for it"
          : "it refused the credentials of <server> '" + repo.getId() + "' in settings.xml");
    }
    if (status == 403) {
      return where + " answered 403 Forbidden for " + artifact + (repo.getAuthentication() == null
          ? ": it does not serve it without credentials (<server> '" + repo.getId() + "' in settings.xml)"
          : ": the user of <server> '" + repo.getId() + "' in settings.xml may not read it");
    }
    if (status > 0) return where + " answered HTTP " + status + " for " + artifact;
    SSLException tls = find(x, SSLException.class);
    if (tls != null) {
      return "TLS failure talking to " + where + " for " + artifact + ": " + (find(x, CertPathBuilderException.class) != null
          ? "its certificate is not trusted by this JVM (add it to the trust store, e.g. -Djavax.net.ssl.trustStore=...)"
          : rootMessage(tls));
    }
    UnknownHostException unknown = find(x, UnknownHostException.class);
    if (unknown != null) return "Cannot reach " + where + " for " + artifact + ": unknown host " + unknown.getMessage();
    for (Class<? extends Exception> c : List.of(ConnectException.class, NoRouteToHostException.class, SocketTimeoutException.class)) {
      Exception e = find(x, c);
      if (e != null) return "Cannot reach " + where + " for " + artifact + ": " + rootMessage(e);
    }
    return withRoot(x);
  }

  private static boolean offline(ArtifactTransferException x) {
    return find(x, RepositoryOfflineException.class) != null || x.getMessage() != null && x.getMessage().contains("in offline mode");
  }

  /**
   * The HTTP status of a failed transfer, or 0. The HTTP transport's exceptions carry it as
   * {@code getStatusCode()} (Apache HttpClient's {@code HttpResponseException}, Resolver's RFC 9457 one).
   */
  private static int status(Throwable x) {
    for (Throwable t = x; t != null; t = t.getCause() == t ? null : t.getCause()) {
      try {
        Object code = t.getClass().getMethod("getStatusCode").invoke(t);
        if (code instanceof Integer i) return i;
      } catch (ReflectiveOperationException | RuntimeException e) {
        // not an HTTP status exception
      }
    }
    return 0;
  }

  private static <T extends Throwable> T find(Throwable x, Class<T> type) {
    for (Throwable t = x; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) return type.cast(t);
    }
    return null;
  }

  private static String rootMessage(Throwable x) {
    Throwable root = x;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return String.valueOf(root.getMessage());
  }

  private static String withRoot(Throwable x) {
    String m = String.valueOf(x.getMessage()), root = rootMessage(x);
    return m.contains(root) ? m : m + ": " + root;
  }
}
