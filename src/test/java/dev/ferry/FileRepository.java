package dev.ferry;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A Maven repository in a temp dir, in the layout a {@code file://} remote has: tests install small
 * libraries they compile themselves (sources → javac → jar + pom + sha1), so resolution needs no network.
 */
public final class FileRepository {

  final Path root;

  public FileRepository(Path root) {
    this.root = root;
  }

  public String url() {
    return root.toUri().toString();
  }

  /** The local repository Maven ran the tests from (fixtures' third-party artifacts are fetched there by the build). */
  public static String mavenLocalRepositoryUrl() {
    String path = System.getProperty("ferry.test.localRepository", System.getProperty("user.home") + "/.m2/repository");
    return Path.of(path).toUri().toString();
  }

  /**
   * Compiles {@code sources} (class name → source) against the test classpath, packs them with
   * {@code resources} (path → text) and installs {@code groupId:artifactId:version}.
   */
  public FileRepository install(String groupId, String artifactId, String version, Map<String, String> sources,
                                Map<String, String> resources) throws IOException {
    return install(groupId, artifactId, version, sources, resources, List.of());
  }

  /** As {@link #install(String, String, String, Map, Map)}, with a pom that depends on {@code dependencies} ({@code g:a:v} each). */
  FileRepository install(String groupId, String artifactId, String version, Map<String, String> sources,
                         Map<String, String> resources, List<String> dependencies) throws IOException {
    Path work = Files.createTempDirectory("lib-" + artifactId);
    try {
      Path src = work.resolve("src"), classes = work.resolve("classes");
      List<String> args = new ArrayList<>(List.of("--release", "11", "-proc:none", "-d", classes.toString(),
          "-cp", System.getProperty("java.class.path")));
      for (var e : sources.entrySet()) {
        Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
        Files.createDirectories(f.getParent());
        Files.writeString(f, e.getValue());
        args.add(f.toString());
      }
      int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, args.toArray(String[]::new));
      if (rc != 0) throw new IllegalStateException("javac failed for " + artifactId);
      for (var e : resources.entrySet()) {
        Path f = classes.resolve(e.getKey());
        Files.createDirectories(f.getParent());
        Files.writeString(f, e.getValue());
      }
      Path dir = root.resolve(groupId.replace('.', '/')).resolve(artifactId).resolve(version);
      Files.createDirectories(dir);
      String base = artifactId + "-" + version;
      Path jar = dir.resolve(base + ".jar");
      try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
           Stream<Path> files = Files.walk(classes)) {
        for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
          out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
          out.write(Files.readAllBytes(f));
          out.closeEntry();
        }
      }
      Path pom = dir.resolve(base + ".pom");
      Files.writeString(pom, "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
          + "<groupId>" + groupId + "</groupId><artifactId>" + artifactId + "</artifactId><version>" + version
          + "</version><dependencies>" + String.join("", dependencies.stream().map(d -> d.split(":")).map(d -> "<dependency><groupId>"
          + d[0] + "</groupId><artifactId>" + d[1] + "</artifactId><version>" + d[2] + "</version></dependency>").toList())
          + "</dependencies></project>\n");
      for (Path f : List.of(jar, pom)) {
        Files.writeString(f.resolveSibling(f.getFileName() + ".sha1"), sha1(f));
      }
      return this;
    } finally {
      TestPlatform.deleteTree(work);
    }
  }

  private static String sha1(Path f) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(Files.readAllBytes(f)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Installs {@code fixture.proc:banner-processor:1.0}: an annotation processor (registered in
   * META-INF/services) that generates {@code fixture.generated.Banner} once per compile.
   */
  public FileRepository installBannerProcessor() throws IOException {
    return install("fixture.proc", "banner-processor", "1.0", Map.of("fixture.proc.BannerProcessor", """
        package fixture.proc;
        import javax.annotation.processing.*;
        import javax.lang.model.SourceVersion;
        import javax.lang.model.element.TypeElement;
        import java.util.Set;
        @SupportedAnnotationTypes("*")
        public class BannerProcessor extends AbstractProcessor {
          private boolean done;
          @Override public SourceVersion getSupportedSourceVersion() { return SourceVersion.latestSupported(); }
          @Override public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
            if (done) return false;
            done = true;
            try (var w = processingEnv.getFiler().createSourceFile("fixture.generated.Banner").openWriter()) {
              w.write("package fixture.generated; public final class Banner { public static final String TEXT = \\"made by a processor\\"; }");
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            return false;
          }
        }
        """), Map.of("META-INF/services/javax.annotation.processing.Processor", "fixture.proc.BannerProcessor\n"));
  }
}
