package dev.ferry.builder;

import dev.ferry.TestPlatform;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Feeds the extractor thousands of random and mutated archives from a fixed seed: whatever it gets,
 * it either extracts or throws its own {@link ExtractionException}, and it never writes outside its
 * target nor leaves a link inside it.
 */
class SafeExtractorFuzzTest {

  static final long SEED = Long.getLong("fuzz.seed", 20261124L);
  static final int CASES = Integer.getInteger("fuzz.cases", 5000);
  static final String[] PARTS = {"a", "src", "main", "..", ".", "", "/", "\\", "\0", "ü", "x".repeat(120), "~", "$HOME", "%2e%2e", " "};
  static final byte[] TYPES = {TarConstants.LF_NORMAL, TarConstants.LF_NORMAL, TarConstants.LF_DIR, TarConstants.LF_SYMLINK,
      TarConstants.LF_LINK, TarConstants.LF_CHR, TarConstants.LF_BLK, TarConstants.LF_FIFO, TarConstants.LF_CONTIG,
      TarConstants.LF_GNUTYPE_SPARSE, TarConstants.LF_PAX_EXTENDED_HEADER_LC, (byte) 'Z'};

  @Test
  void random_and_mutated_archives_only_ever_meet_extraction_exceptions_and_nothing_is_written_outside() throws Exception {
    Path sandbox = Files.createTempDirectory("ferry-fuzz");
    try {
      Path parent = Files.createDirectories(sandbox.resolve("parent"));
      Files.writeString(parent.resolve("canary"), "untouched");
      Files.createDirectories(parent.resolve("sibling"));
      Path target = parent.resolve("target");
      Path archive = sandbox.resolve("in.tar.gz");
      SafeExtractor extractor = new SafeExtractor(new dev.ferry.settings.ExtractConfig(64 * 1024, 20, 100));
      Map<String, String> before = snapshot(parent, target);
      Random random = new Random(SEED);
      int refused = 0;
      for (int i = 0; i < CASES; i++) {
        byte[] bytes = switch (i % 4) {
          case 0 -> randomArchive(random);
          case 1 -> mutate(random, randomArchive(random));
          case 2 -> gzip(mutate(random, tar(random)));
          default -> randomBytes(random);
        };
        Files.write(archive, bytes);
        try {
          extractor.extract(archive, target);
        } catch (ExtractionException expected) {
          refused++;
        } catch (Throwable t) {
          fail("case " + i + " (seed " + SEED + ") threw " + t, t);
        }
        assertEquals(before, snapshot(parent, target), "case " + i + " (seed " + SEED + ") wrote outside the target");
        if (Files.exists(target)) {
          try (Stream<Path> inside = Files.walk(target)) {
            Path link = inside.filter(Files::isSymbolicLink).findAny().orElse(null);
            if (link != null) fail("case " + i + " (seed " + SEED + ") left a link: " + link);
          }
          TestPlatform.deleteTree(target);
        }
      }
      // the generator reaches the refusals, not only the happy path
      if (refused < CASES / 2) fail("only " + refused + " of " + CASES + " cases were refused; the generator is too tame");
    } finally {
      TestPlatform.deleteTree(sandbox);
    }
  }

  private static Map<String, String> snapshot(Path parent, Path except) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> all = Files.walk(parent)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (p.startsWith(except)) continue;
        files.put(parent.relativize(p).toString(), Files.isDirectory(p) ? "dir" : Arrays.hashCode(Files.readAllBytes(p)) + "");
      }
    }
    return files;
  }

  private static String name(Random r) {
    StringBuilder b = new StringBuilder();
    int parts = 1 + r.nextInt(5);
    for (int i = 0; i < parts; i++) {
      if (i > 0) b.append(r.nextInt(6) == 0 ? "" : "/");
      b.append(PARTS[r.nextInt(PARTS.length)]);
    }
    if (r.nextInt(8) == 0) b.insert(0, '/');
    if (r.nextInt(10) == 0) b.insert(0, "../sibling/");
    return b.toString();
  }

  /** An uncompressed tar of random entries (names, types, link targets, sizes). */
  private static byte[] tar(Random r) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      tar.setLongFileMode(r.nextBoolean() ? TarArchiveOutputStream.LONGFILE_GNU : TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      int entries = r.nextInt(8);
      for (int i = 0; i < entries; i++) {
        TarArchiveEntry e;
        byte type = TYPES[r.nextInt(TYPES.length)];
        try {
          e = new TarArchiveEntry(name(r), type, true);
        } catch (RuntimeException unbuildable) {
          continue;
        }
        byte[] content = new byte[0];
        if (type == TarConstants.LF_NORMAL || type == TarConstants.LF_CONTIG) {
          content = new byte[r.nextInt(4) == 0 ? 70_000 : r.nextInt(600)];
          r.nextBytes(content);
          e.setSize(content.length);
        } else if (type == TarConstants.LF_SYMLINK || type == TarConstants.LF_LINK) {
          e.setLinkName(r.nextBoolean() ? "../parent/canary" : name(r));
        }
        try {
          tar.putArchiveEntry(e);
          tar.write(content);
          tar.closeArchiveEntry();
        } catch (RuntimeException | IOException unwritable) {
          break;
        }
      }
    } catch (IOException | RuntimeException unfinished) {
      // a half-written tar is a fine input too
    }
    return out.toByteArray();
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GzipCompressorOutputStream gz = new GzipCompressorOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  private static byte[] randomArchive(Random r) throws IOException {
    return gzip(tar(r));
  }

  /** Flips, overwrites, truncates or extends: the corruptions a hostile or broken upload has. */
  private static byte[] mutate(Random r, byte[] in) {
    if (in.length == 0) return in;
    byte[] b = in.clone();
    switch (r.nextInt(4)) {
      case 0 -> {
        for (int k = 0; k < 1 + r.nextInt(8); k++) b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
      }
      case 1 -> {
        int at = r.nextInt(b.length);
        byte[] junk = List.of("../../parent/canary\0", "0000777\0", "ustar\0", "99999999999\0").get(r.nextInt(4)).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(junk, 0, b, at, Math.min(junk.length, b.length - at));
      }
      case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length));
      default -> {
        b = Arrays.copyOf(b, b.length + 1 + r.nextInt(2048));
        for (int k = in.length; k < b.length; k++) b[k] = (byte) r.nextInt();
      }
    }
    return b;
  }

  private static byte[] randomBytes(Random r) {
    byte[] b = new byte[r.nextInt(4096)];
    r.nextBytes(b);
    if (b.length > 2 && r.nextBoolean()) {
      b[0] = 0x1f; // a gzip magic number, to get past the first check
      b[1] = (byte) 0x8b;
    }
    return b;
  }
}
