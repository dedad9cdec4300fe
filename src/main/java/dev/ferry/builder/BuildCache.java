package dev.ferry.builder;

import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reuses artifacts: a source tree whose content hash equals an earlier build's (whose jar is still
 * on disk) gets that build's artifact instead of a compile. Reads the ledger; every method blocks.
 */
public final class BuildCache {

  /** An earlier build of the same source: its deployment and its artifact. */
  public record Hit(String deploymentId, Artifact artifact) {
  }

  private final LedgerReader ledger;

  public BuildCache(LedgerReader ledger) {
    this.ledger = ledger;
  }

  /**
   * The sha256 of a source tree: every regular file's path (relative, '/'-separated, sorted) and
   * content. The same tree packed twice hashes the same, whatever the archive's bytes or dates.
   */
  public static String hash(Path tree) throws IOException {
    MessageDigest sha = sha256();
    List<Path> files;
    try (Stream<Path> s = Files.walk(tree)) {
      files = s.filter(Files::isRegularFile).toList();
    }
    List<String> names = files.stream().map(f -> tree.relativize(f).toString().replace('\\', '/')).sorted().toList();
    byte[] buf = new byte[8192];
    for (String name : names) {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      Path f = tree.resolve(name);
      // length-prefixed, so no two trees give the same byte stream
      sha.update(longBytes(n.length));
      sha.update(n);
      sha.update(longBytes(Files.size(f)));
      try (InputStream in = new DigestInputStream(Files.newInputStream(f), sha)) {
        while (in.read(buf) >= 0) {
          // the digest reads along
        }
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The newest earlier build of source {@code sourceHash} whose jar is still on disk. */
  public Optional<Hit> find(String sourceHash) {
    for (DeploymentRow row : ledger.builtFrom(sourceHash)) {
      Artifact a = row.artifact();
      if (Files.isRegularFile(a.jar()) && a.dependencies().stream().allMatch(Files::isRegularFile)) {
        return Optional.of(new Hit(row.id(), a));
      }
    }
    return Optional.empty();
  }

  /** Puts a copy of {@code jar} at {@code target}: a hard link where the file system allows one. */
  static void copy(Path jar, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    Files.deleteIfExists(target);
    try {
      Files.createLink(target, jar);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(jar, target);
      Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
    }
  }

  private static byte[] longBytes(long v) {
    return java.nio.ByteBuffer.allocate(Long.BYTES).putLong(v).array();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
