package dev.ferry.builder;

import dev.ferry.common.Shared;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The classpath services compile against: the jars of the libraries the platform shares
 * ({@link Shared}: Vert.x core, web, web client, their Netty and Jackson core) and a jar of Ferry's SDK package
 * alone, so service code cannot compile against Ferry's internals. Found from the code sources of
 * the shared classes, which works from a jar, a thin-jar layout, or Maven's test classpath.
 */
public final class SharedClasspath {

  private static final String SDK_PATH = Shared.SDK_PATH;
  private static final String RUNNER_PATH = "dev/ferry/runner/";
  private static final String COMMON_PATH = "dev/ferry/common/";

  private SharedClasspath() {
  }

  /** The shared jars plus an SDK jar written to {@code workDir}. */
  public static List<Path> create(Path workDir) throws IOException {
    List<Path> paths = new ArrayList<>(libraries());
    paths.add(writeSdkJar(workDir.resolve("ferry-sdk.jar")));
    return List.copyOf(paths);
  }

  /** The jars of the libraries shared with services. */
  private static List<Path> libraries() {
    Set<Path> paths = new LinkedHashSet<>();
    ClassLoader cl = SharedClasspath.class.getClassLoader();
    for (String anchor : Shared.anchors()) {
      try {
        paths.add(codeSource(Class.forName(anchor, false, cl)));
      } catch (ClassNotFoundException e) {
        // a library the platform does not carry; services cannot use it either
      }
    }
    return List.copyOf(paths);
  }

  /**
   * A runner process's classpath: a jar of the runner's own classes and the SDK (named after its
   * content, so it is written once and a class-data-sharing archive made against it stays valid),
   * ASM (the runner rewrites service bytecode), and the shared libraries. Nothing else of the platform.
   */
  public static List<Path> runnerClasspath(Path cacheDir) throws IOException {
    List<Path> paths = new ArrayList<>();
    paths.add(writeRunnerJar(cacheDir));
    paths.add(codeSource(org.objectweb.asm.ClassReader.class));
    paths.addAll(libraries());
    return List.copyOf(paths);
  }

  /**
   * The runner jar made from the platform's current code: found by what that code is (its jar's
   * path, size and time) when it was made before, so a restart does not read and pack the classes
   * again; else written as below.
   */
  private static Path writeRunnerJar(Path cacheDir) throws IOException {
    Path source = codeSource(dev.ferry.runner.RunnerMain.class);
    if (Files.isRegularFile(source)) {
      String key = source.toAbsolutePath() + "|" + Files.size(source) + "|" + Files.getLastModifiedTime(source).toMillis();
      Path index = cacheDir.resolve("runner-jar.index");
      if (Files.isRegularFile(index)) {
        List<String> lines = Files.readAllLines(index);
        if (lines.size() == 2 && lines.get(0).equals(key)) {
          Path jar = cacheDir.resolve(lines.get(1));
          if (Files.isRegularFile(jar)) return jar;
        }
      }
      Path jar = packRunnerJar(cacheDir);
      Path tmp = Files.createTempFile(cacheDir, "runner-jar", ".index");
      Files.write(tmp, List.of(key, jar.getFileName().toString()));
      Files.move(tmp, index, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return jar;
    }
    // classes in a directory (a build's target/classes): packed each time
    return packRunnerJar(cacheDir);
  }

  private static Path packRunnerJar(Path cacheDir) throws IOException {
    Files.createDirectories(cacheDir);
    Path tmp = Files.createTempFile(cacheDir, "runner", ".jar.tmp");
    try {
      try (OutputStream os = Files.newOutputStream(tmp); JarOutputStream out = new JarOutputStream(os)) {
        copyPackages(codeSource(dev.ferry.runner.RunnerMain.class), out, RUNNER_PATH, COMMON_PATH, SDK_PATH);
      }
      String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(tmp)));
      Path jar = cacheDir.resolve("runner-" + sha.substring(0, 16) + ".jar");
      if (!Files.isRegularFile(jar)) Files.move(tmp, jar, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return readableByAll(jar);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Copies the class files of {@code packages} (paths like {@code dev/ferry/sdk/}) from {@code source}, a jar or a directory. */
  private static void copyPackages(Path source, JarOutputStream out, String... packages) throws IOException {
    if (Files.isDirectory(source)) {
      for (String p : packages) copyTree(source, source.resolve(p), out);
    } else {
      try (FileSystem fs = FileSystems.newFileSystem(source)) {
        for (String p : packages) copyTree(fs.getPath("/"), fs.getPath("/" + p), out);
      }
    }
  }

  static Path codeSource(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("Cannot locate the jar of " + c.getName(), e);
    }
  }

  /** Copies the SDK package out of the platform's own code source into a jar of its own. */
  private static Path writeSdkJar(Path jar) throws IOException {
    Path source = codeSource(dev.ferry.sdk.ServiceConfig.class);
    Files.createDirectories(jar.getParent());
    Path tmp = Files.createTempFile(jar.getParent(), "sdk", ".jar");
    try (OutputStream os = Files.newOutputStream(tmp); JarOutputStream out = new JarOutputStream(os)) {
      copyPackages(source, out, SDK_PATH);
    }
    Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return readableByAll(jar);
  }

  /** Sandboxed processes run as another user: the jars they are shown must be readable by it (temp files are 0600). */
  private static Path readableByAll(Path jar) throws IOException {
    try {
      Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (IOException | UnsupportedOperationException e) {
      // another user's file in a shared cache: it was made readable when it was written
    }
    return jar;
  }

  private static void copyTree(Path root, Path dir, JarOutputStream out) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      s.filter(Files::isRegularFile).sorted().forEach(files::add);
    }
    for (Path f : files) {
      JarEntry entry = new JarEntry(root.relativize(f).toString().replace('\\', '/'));
      // a fixed time: the same classes give the same jar, byte for byte
      entry.setTime(0);
      out.putNextEntry(entry);
      try (InputStream in = Files.newInputStream(f)) {
        in.transferTo(out);
      }
      out.closeEntry();
    }
  }
}
