package dev.ferry.builder;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Packs a directory into a jar (mode 0444): entries sorted with a fixed time, so equal input gives equal bytes. */
final class Packer {

  private static final FileTime EPOCH = FileTime.fromMillis(315532800000L); // 1980-01-01, the zip epoch

  private Packer() {
  }

  /** Writes {@code dir}'s files to {@code jar} (atomically) and returns the jar's sha256 in hex. */
  static String pack(Path dir, Path jar) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
    Files.createDirectories(jar.getParent());
    Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (OutputStream os = new DigestOutputStream(Files.newOutputStream(tmp), sha);
         JarOutputStream out = new JarOutputStream(os)) {
      for (Path f : files) {
        JarEntry e = new JarEntry(dir.relativize(f).toString().replace('\\', '/'));
        e.setLastModifiedTime(EPOCH);
        out.putNextEntry(e);
        try (InputStream in = Files.newInputStream(f)) {
          in.transferTo(out);
        }
        out.closeEntry();
      }
    }
    // read-only from the start: nothing is meant to change an artifact, and its sha256 is checked at every load
    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
    Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return HexFormat.of().formatHex(sha.digest());
  }
}
