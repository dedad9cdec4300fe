package dev.ferry.cli;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Packs a service directory into the tar.gz Ferry takes: regular files only; build output, version
 * control, and what the directory's {@code .gitignore} and {@code .ferryignore} exclude are skipped.
 */
public final class Archives {

  /** Directories never packed: build output and version control. */
  static final Set<String> SKIPPED = Set.of("target", ".git", "build", ".idea", "node_modules");

  private Archives() {
  }

  /** Writes {@code dir}'s tree to {@code out} as tar.gz; returns the number of files packed. */
  public static int pack(Path dir, Path out) throws IOException {
    if (!Files.isDirectory(dir)) throw new IOException("Not a directory: " + dir);
    IgnoreRules ignore = IgnoreRules.of(dir);
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .filter(p -> dir.relativize(p).getNameCount() > 0 && !skipped(dir.relativize(p))
              && !ignore.ignored(dir.relativize(p).toString().replace('\\', '/'), false))
          .sorted().collect(Collectors.toList());
    }
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out));
         GzipCompressorOutputStream gz = new GzipCompressorOutputStream(os);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Path f : files) {
        TarArchiveEntry e = new TarArchiveEntry(f.toFile(), dir.relativize(f).toString().replace('\\', '/'));
        tar.putArchiveEntry(e);
        Files.copy(f, tar);
        tar.closeArchiveEntry();
      }
      tar.finish();
    }
    return files.size();
  }

  private static boolean skipped(Path rel) {
    for (Path part : rel.getParent() == null ? List.<Path>of() : rel.getParent()) {
      if (SKIPPED.contains(part.toString())) return true;
    }
    return false;
  }
}
