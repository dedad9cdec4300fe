package dev.ferry.builder;

import dev.ferry.builder.DependencyResolver.Progress;
import dev.ferry.deployment.DeploymentLog.Level;
import org.eclipse.aether.AbstractRepositoryListener;
import org.eclipse.aether.RepositoryEvent;
import org.eclipse.aether.artifact.Artifact;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one resolution fetches from remote repositories: a line per jar (artifact, size, repository)
 * as it arrives, and a summary at the end ({@code Fetched 8 jars, 4.2 MiB in 1.3 s}).
 */
final class Downloads extends AbstractRepositoryListener {

  private final Progress progress;
  private final AtomicInteger jars = new AtomicInteger();
  private final AtomicInteger others = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong first = new AtomicLong();
  private final AtomicLong last = new AtomicLong();

  Downloads(Progress progress) {
    this.progress = progress;
  }

  @Override
  public void artifactDownloading(RepositoryEvent event) {
    first.compareAndSet(0, System.nanoTime());
  }

  @Override
  public void artifactDownloaded(RepositoryEvent event) {
    last.set(System.nanoTime());
    Artifact a = event.getArtifact();
    if (event.getException() != null || a == null || a.getFile() == null) return;
    if (!"jar".equals(a.getExtension())) {
      others.incrementAndGet();
      return;
    }
    long size = a.getFile().length();
    jars.incrementAndGet();
    bytes.addAndGet(size);
    progress.line(Level.INFO, "Downloaded " + a + " (" + size(size) + ") from " + event.getRepository().getId());
  }

  /** The summary line, when anything was fetched. */
  void summary() {
    int n = jars.get(), poms = others.get();
    if (n == 0 && poms == 0) return;
    double seconds = (last.get() - first.get()) / 1e9;
    progress.line(Level.INFO, String.format(Locale.ROOT, "Fetched %d jar%s, %s in %.1f s%s", n, n == 1 ? "" : "s", size(bytes.get()),
        seconds, poms == 0 ? "" : " (and " + poms + " pom" + (poms == 1 ? "" : "s") + ")"));
  }

  static String size(long bytes) {
    if (bytes < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }
}
