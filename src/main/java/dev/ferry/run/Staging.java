package dev.ferry.run;

import dev.ferry.deployment.Artifact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Puts a deployment's jars where its runner reads them: {@code lib/<deployment>/} in the runner's
 * dir (a sandboxed runner sees that dir read-only as {@code /ferry/lib}, and nothing of the data
 * dir or the Maven repository), as hard links (copies across file systems). The artifact is
 * checked against the sha256 its build recorded, after it is linked, so what the runner opens is
 * what was checked; a mismatch refuses the load, naming the file. Every load goes through here: a
 * first deploy, a rollback, a restart after a crash, a platform restart.
 */
final class Staging {

  static final String LIB = "lib";

  private Staging() {
  }

  /** Stages {@code artifact} for {@code deployment}; returns the paths the runner opens, the artifact first. Blocks. */
  static List<String> stage(Path runnerDir, boolean sandboxed, String deployment, Artifact artifact) throws IOException {
    Path dir = runnerDir.resolve(LIB).resolve(deployment);
    Retention.deleteQuietly(dir);
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<Path> sources = new ArrayList<>();
    sources.add(artifact.jar());
    sources.addAll(artifact.dependencies());
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      Path source = sources.get(i);
      if (!Files.isRegularFile(source)) {
        throw new Runner.Refused((i == 0 ? "The artifact " : "The dependency ") + source + " of deployment " + deployment
            + " is gone: it was removed from disk after the build");
      }
      String name = i + "-" + source.getFileName();
      Path staged = dir.resolve(name);
      link(source, staged);
      if (i == 0) check(staged, source, deployment, artifact.sha256());
      paths.add(sandboxed ? dev.ferry.sandbox.Sandbox.INSIDE + "/" + LIB + "/" + deployment + "/" + name : staged.toString());
    }
    return paths;
  }

  private static void link(Path source, Path target) throws IOException {
    try {
      Files.createLink(target, source);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(source, target);
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--r--r--"));
    }
  }

  /** Refuses {@code staged} (a link to {@code source}) unless its sha256 is {@code expected}. */
  private static void check(Path staged, Path source, String deployment, String expected) throws IOException {
    java.util.Optional<String> changed = changed(staged, source, deployment, expected);
    if (changed.isPresent()) throw new Runner.Refused(changed.get());
  }

  /** Why {@code file} (the artifact {@code source} of {@code deployment}) is not to be loaded: its sha256 is not {@code expected}. */
  static java.util.Optional<String> changed(Path file, Path source, String deployment, String expected) throws IOException {
    String actual = sha256(file);
    if (actual.equalsIgnoreCase(expected)) return java.util.Optional.empty();
    return java.util.Optional.of("The artifact " + source + " of deployment " + deployment + " does not match the sha256 its build "
        + "recorded (recorded " + expected + ", found " + actual + "): it was changed on disk after the build, and is not loaded");
  }

  static String sha256(Path file) throws IOException {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = Files.newInputStream(file)) {
        int n;
        while ((n = in.read(buf)) > 0) sha.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
