package dev.ferry.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * {@code ferry sdk install}: puts {@code dev.ferry:ferry-sdk} (the annotations and helpers of
 * {@code dev.ferry.sdk}) into a local Maven repository with a pom, so IDEs and plain Maven builds of
 * a service compile against it. Services declare it {@code provided}: the platform supplies it.
 */
@Command(name = "sdk", mixinStandardHelpOptions = true,
    description = {"Install Ferry's SDK (dev.ferry:ferry-sdk:" + SdkCommand.VERSION + ") into the local Maven repository,",
        "so IDEs and plain Maven builds compile services that use @Postgres, @Secret and the rest:",
        "  ferry sdk install [--repository DIR]"})
final class SdkCommand implements Callable<Integer> {

  static final String GROUP = dev.ferry.common.Shared.SDK_GROUP;
  static final String ARTIFACT = dev.ferry.common.Shared.SDK_ARTIFACT;
  static final String VERSION = "0.1.0";
  private static final String SDK_PATH = dev.ferry.common.Shared.SDK_PATH;

  @Parameters(index = "0", paramLabel = "ACTION", description = "install")
  String action;
  @Option(names = "--repository", paramLabel = "DIR", description = "The local Maven repository (default ~/.m2/repository)")
  Path repository;
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (!"install".equals(action)) {
      spec.commandLine().getErr().println("ferry sdk: the action is install, not " + action);
      return 2;
    }
    Path repo = repository != null ? repository : Path.of(System.getProperty("user.home"), ".m2", "repository");
    try {
      Path dir = install(repo);
      spec.commandLine().getOut().println("Installed " + GROUP + ":" + ARTIFACT + ":" + VERSION + " in " + dir);
      spec.commandLine().getOut().println("Declare it in a service's pom.xml with <scope>provided</scope> (ferry init does)");
      return 0;
    } catch (IOException | RuntimeException e) {
      spec.commandLine().getErr().println("ferry sdk: cannot install into " + repo + ": " + e.getMessage());
      return 1;
    }
  }

  /** Writes the jar and pom into {@code repo}'s layout; returns their directory. */
  static Path install(Path repo) throws IOException {
    Path dir = repo.resolve(GROUP.replace('.', '/')).resolve(ARTIFACT).resolve(VERSION);
    Files.createDirectories(dir);
    String base = ARTIFACT + "-" + VERSION;
    Path jar = dir.resolve(base + ".jar");
    Path tmp = Files.createTempFile(dir, base, ".tmp");
    try {
      Manifest m = new Manifest();
      m.getMainAttributes().putValue("Manifest-Version", "1.0");
      m.getMainAttributes().putValue("Implementation-Title", GROUP + ":" + ARTIFACT);
      m.getMainAttributes().putValue("Implementation-Version", VERSION);
      try (OutputStream os = Files.newOutputStream(tmp); JarOutputStream out = new JarOutputStream(os, m)) {
        Path source = codeSource();
        if (Files.isDirectory(source)) {
          copyTree(source, source.resolve(SDK_PATH), out);
        } else {
          try (FileSystem fs = FileSystems.newFileSystem(source)) {
            copyTree(fs.getPath("/"), fs.getPath("/" + SDK_PATH), out);
          }
        }
        out.putNextEntry(new JarEntry("META-INF/maven/" + GROUP + "/" + ARTIFACT + "/pom.xml"));
        out.write(pom().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        out.closeEntry();
      }
      Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    Files.writeString(dir.resolve(base + ".pom"), pom());
    return dir;
  }

  static String pom() {
    return """
        <?xml version="1.0" encoding="UTF-8"?>
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>%s</groupId>
          <artifactId>%s</artifactId>
          <version>%s</version>
          <name>Ferry SDK</name>
          <description>What Ferry services may use: @Postgres, @Secret, ServiceConfig, ServiceLog. Provided by the platform.</description>
          <dependencies>
            <dependency>
              <groupId>io.vertx</groupId>
              <artifactId>vertx-core</artifactId>
              <version>%s</version>
              <scope>provided</scope>
            </dependency>
          </dependencies>
        </project>
        """.formatted(GROUP, ARTIFACT, VERSION, BuildVersions.VERTX);
  }

  private static Path codeSource() {
    try {
      return Path.of(dev.ferry.sdk.Postgres.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("Cannot locate the SDK's classes", e);
    }
  }

  private static void copyTree(Path root, Path dir, JarOutputStream out) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    for (Path f : files) {
      out.putNextEntry(new JarEntry(root.relativize(f).toString().replace('\\', '/')));
      try (InputStream in = Files.newInputStream(f)) {
        in.transferTo(out);
      }
      out.closeEntry();
    }
  }
}
