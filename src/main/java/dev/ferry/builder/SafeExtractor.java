package dev.ferry.builder;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Extracts a tar.gz into a directory and refuses anything that could write elsewhere or without
 * bound: only regular files and directories; no absolute names, no {@code ..}, no name that
 * normalizes outside the target; limits on total bytes written, entry count and name length.
 * Real bytes are counted (headers can lie). Any refusal is an {@link ExtractionException}.
 */
public final class SafeExtractor {

  private final long maxBytes;
  private final int maxEntries;
  private final int maxNameLength;

  public SafeExtractor(dev.ferry.settings.ExtractConfig limits) {
    this.maxBytes = limits.maxBytes();
    this.maxEntries = limits.maxEntries();
    this.maxNameLength = limits.maxNameLength();
  }

  /** Extracts {@code archive} into {@code target} (created if absent); returns the bytes written. */
  public long extract(Path archive, Path target) throws ExtractionException {
    Path root;
    try {
      Files.createDirectories(target);
      root = target.toRealPath();
    } catch (IOException e) {
      throw new ExtractionException("Cannot create build directory " + target + ": " + e.getMessage(), e);
    }
    long total = 0;
    int entries = 0;
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive));
         GzipCompressorInputStream gz = gunzip(raw);
         TarArchiveInputStream tar = new TarArchiveInputStream(gz)) {
      TarArchiveEntry entry;
      byte[] buf = new byte[64 * 1024];
      while ((entry = tar.getNextEntry()) != null) {
        if (++entries > maxEntries) {
          throw new ExtractionException("Archive has more than " + maxEntries + " entries");
        }
        String name = entry.getName();
        Path dest = destination(root, name);
        if (entry.isDirectory()) {
          Files.createDirectories(dest);
          continue;
        }
        if (!isRegularFile(entry)) {
          throw new ExtractionException("Archive entry " + quote(name) + " is a " + kind(entry)
              + "; only regular files and directories are allowed");
        }
        Files.createDirectories(dest.getParent());
        try (OutputStream out = Files.newOutputStream(dest, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          int n;
          while ((n = tar.read(buf)) != -1) {
            total += n;
            if (total > maxBytes) {
              throw new ExtractionException("Archive expands past the limit of " + maxBytes + " bytes");
            }
            out.write(buf, 0, n);
          }
        } catch (java.nio.file.FileAlreadyExistsException e) {
          throw new ExtractionException("Archive entry " + quote(name) + " appears twice");
        }
      }
    } catch (ExtractionException e) {
      throw e;
    } catch (EOFException e) {
      throw new ExtractionException("Archive is truncated", e);
    } catch (IOException | RuntimeException e) {
      throw new ExtractionException("Archive is not a readable tar.gz: " + e.getMessage(), e);
    }
    if (entries == 0) {
      throw new ExtractionException("Archive is empty");
    }
    return total;
  }

  private static GzipCompressorInputStream gunzip(InputStream in) throws ExtractionException {
    try {
      return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
    } catch (IOException e) {
      throw new ExtractionException("Upload is not gzip-compressed: " + e.getMessage(), e);
    }
  }

  /** Where {@code name} goes under {@code root}, or a refusal if it would go anywhere else. */
  private Path destination(Path root, String name) throws ExtractionException {
    if (name == null || name.isEmpty()) {
      throw new ExtractionException("Archive has an entry with an empty name");
    }
    if (name.length() > maxNameLength) {
      throw new ExtractionException("Archive entry name is longer than " + maxNameLength + " characters: "
          + quote(name.substring(0, Math.min(60, name.length()))) + "...");
    }
    if (name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0) {
      throw new ExtractionException("Archive entry " + quote(name) + " has a forbidden character");
    }
    if (name.startsWith("/")) {
      throw new ExtractionException("Archive entry " + quote(name) + " is an absolute path");
    }
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        throw new ExtractionException("Archive entry " + quote(name) + " leaves the build directory");
      }
    }
    Path dest;
    try {
      dest = root.resolve(name).normalize();
    } catch (InvalidPathException e) {
      throw new ExtractionException("Archive entry " + quote(name) + " is not a valid path");
    }
    if (!dest.startsWith(root)) {
      throw new ExtractionException("Archive entry " + quote(name) + " leaves the build directory");
    }
    // a directory created earlier is never a link (links are refused), so the real path stays inside
    return dest;
  }

  private static boolean isRegularFile(TarArchiveEntry e) {
    return e.isFile() && !e.isSymbolicLink() && !e.isLink() && !e.isCharacterDevice() && !e.isBlockDevice()
        && !e.isFIFO() && !e.isGNUSparse();
  }

  private static String kind(TarArchiveEntry e) {
    if (e.isSymbolicLink()) return "symbolic link";
    if (e.isLink()) return "hard link";
    if (e.isCharacterDevice()) return "character device";
    if (e.isBlockDevice()) return "block device";
    if (e.isFIFO()) return "FIFO";
    if (e.isGNUSparse()) return "sparse file";
    return "special entry (type " + (char) e.getLinkFlag() + ")";
  }

  private static String quote(String s) {
    return "'" + s + "'";
  }
}
