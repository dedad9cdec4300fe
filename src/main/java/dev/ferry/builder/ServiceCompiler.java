package dev.ferry.builder;

import dev.ferry.deployment.StageException;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Compiles a service's {@code src/main/java} against the shared classpath and the service's own
 * dependencies, with the options its pom asks for. A build without annotation processors runs no
 * third-party code: it compiles in-process with {@code javax.tools} and {@code -proc:none}; the
 * compiler is created once, and each worker thread keeps its own file manager warm (file managers
 * are not thread-safe, and reusing one saves reopening every jar). A build whose pom or classpath
 * brings processors compiles in a sandboxed compiler process of its own ({@link IsolatedCompiler}).
 */
public final class ServiceCompiler {

  /** How many diagnostics a failed build reports in full. */
  private static final int MAX_REPORTED = 20;

  private final JavaCompiler compiler;
  private final List<Path> classpath;
  private final ThreadLocal<StandardJavaFileManager> fileManagers;
  private IsolatedCompiler isolated;

  public ServiceCompiler(List<Path> classpath) {
    this.compiler = ToolProvider.getSystemJavaCompiler();
    if (compiler == null) {
      throw new IllegalStateException("No Java compiler: Ferry needs a JDK, not a JRE (java.home="
          + System.getProperty("java.home") + ")");
    }
    this.classpath = List.copyOf(classpath);
    this.fileManagers = ThreadLocal.withInitial(() -> compiler.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8));
  }

  /**
   * Compiles builds that run annotation processors in a compiler process {@code sandbox} launches
   * with {@code limits}; {@code mainJar} holds its main.
   */
  public ServiceCompiler isolating(dev.ferry.sandbox.Sandbox sandbox, Path mainJar, dev.ferry.settings.BuildConfig build,
      dev.ferry.settings.ExtractConfig extract, dev.ferry.sandbox.Limits limits) {
    this.isolated = new IsolatedCompiler(sandbox, mainJar, build, extract, limits);
    return this;
  }

  /** Whether {@code build} runs annotation processors: its pom names a processor path, or its classpath brings processors. */
  static boolean runsProcessors(Resolution build) {
    return !build.processorPath().isEmpty() || build.processorsOnClasspath();
  }

  /**
   * Compiles every {@code .java} file under {@code serviceRoot/src/main/java} into {@code outputDir},
   * as the service's pom asks ({@code build}: release, {@code -parameters}, annotation processors),
   * with the service's own dependencies after the shared classpath. Sources that processors generate
   * go to {@code generated-sources} beside {@code outputDir}. Returns the warnings, each
   * in full as javac prints it (see {@link #describe}).
   */
  List<String> compile(Path serviceRoot, Path outputDir, Resolution build) throws StageException {
    Path sourceDir = serviceRoot.resolve("src/main/java");
    Path generated = outputDir.resolveSibling("generated-sources");
    List<Path> sources;
    try (Stream<Path> s = Files.walk(sourceDir)) {
      sources = s.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p)).sorted().collect(Collectors.toList());
      Files.createDirectories(outputDir);
      Files.createDirectories(generated);
    } catch (IOException e) {
      throw new StageException("Cannot read sources: " + e.getMessage(), e);
    }
    if (sources.isEmpty()) {
      throw new StageException("src/main/java has no .java files");
    }
    List<Path> cp = new ArrayList<>(classpath);
    cp.addAll(build.classpath());
    if (runsProcessors(build)) return compileIsolated(serviceRoot, outputDir, build, cp);
    StandardJavaFileManager fm = fileManagers.get();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StringWriter out = new StringWriter();
    boolean ok;
    try {
      fm.setLocationFromPaths(StandardLocation.CLASS_PATH, cp);
      fm.setLocationFromPaths(StandardLocation.CLASS_OUTPUT, List.of(outputDir));
      fm.setLocationFromPaths(StandardLocation.SOURCE_OUTPUT, List.of(generated));
      fm.setLocationFromPaths(StandardLocation.SOURCE_PATH, List.of(sourceDir));
      List<String> options = new ArrayList<>(options(build));
      // no third-party code runs in the platform's JVM
      options.add("-proc:none");
      ok = compiler.getTask(out, fm, diagnostics, options, null, fm.getJavaFileObjectsFromPaths(sources)).call();
    } catch (IOException | RuntimeException e) {
      throw new StageException("The compiler failed: " + e, e);
    } finally {
      try {
        // let go of this build's sources; the shared jars stay open for the next build
        fm.setLocationFromPaths(StandardLocation.SOURCE_PATH, List.of());
      } catch (IOException ignored) {
        // nothing held
      }
    }
    if (!ok) {
      throw report(serviceRoot, diagnostics.getDiagnostics(), out.toString());
    }
    List<String> warnings = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.WARNING || d.getKind() == Diagnostic.Kind.MANDATORY_WARNING) {
        warnings.add(describe(serviceRoot, d));
      }
    }
    return warnings;
  }

  /**
   * A diagnostic as javac prints it: {@code path:line: error: message}, the source line with a caret
   * under the column, then the message's other lines ({@code symbol:}, {@code location:}...); the
   * path relative to the service's root.
   */
  static String describe(Path root, Diagnostic<? extends JavaFileObject> d) {
    List<String> message = d.getMessage(Locale.ROOT).lines().toList();
    StringBuilder sb = new StringBuilder();
    if (d.getSource() != null) {
      Path p = Path.of(d.getSource().toUri());
      sb.append(p.startsWith(root) ? root.relativize(p) : p.getFileName()).append(':').append(d.getLineNumber()).append(": ");
    }
    sb.append(d.getKind() == Diagnostic.Kind.ERROR ? "error: " : "warning: ").append(message.isEmpty() ? "" : message.get(0));
    sourceLine(d).ifPresent(line -> {
      sb.append('\n').append(line).append('\n');
      // the caret under the column, tabs kept so it lines up
      long column = Math.max(1, d.getColumnNumber());
      for (int i = 0; i < column - 1 && i < line.length(); i++) sb.append(line.charAt(i) == '\t' ? '\t' : ' ');
      sb.append('^');
    });
    message.stream().skip(1).forEach(l -> sb.append('\n').append(l));
    return sb.toString();
  }

  private static java.util.Optional<String> sourceLine(Diagnostic<? extends JavaFileObject> d) {
    if (d.getSource() == null || d.getLineNumber() < 1) return java.util.Optional.empty();
    try {
      return d.getSource().getCharContent(true).toString().lines().skip(d.getLineNumber() - 1).findFirst();
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  /** The options the pom asks for: release, debug info, {@code -parameters}. */
  static List<String> options(Resolution build) {
    List<String> options = new ArrayList<>(List.of("--release", String.valueOf(build.release()), "-g", "-encoding", "UTF-8", "-Xlint:none"));
    if (build.parameters()) options.add("-parameters");
    return options;
  }

  /**
   * In the sandboxed compiler process, with the processors the pom names (else javac finds them on
   * its processor path or classpath); its diagnostics come back as {@link #describe} writes them.
   */
  private List<String> compileIsolated(Path serviceRoot, Path outputDir, Resolution build, List<Path> cp) throws StageException {
    if (isolated == null) throw new StageException("This build runs annotation processors and the platform has no compiler process for them");
    List<String> options = new ArrayList<>(options(build));
    if (!build.processors().isEmpty()) {
      options.add("-processor");
      options.add(String.join(",", build.processors()));
    }
    IsolatedCompiler.Result r = isolated.compile(serviceRoot, outputDir, outputDir.getParent(), cp, build.processorPath(), options);
    List<String> errors = new ArrayList<>(), warnings = new ArrayList<>(), other = new ArrayList<>();
    for (IsolatedCompiler.Diagnostic d : r.diagnostics()) {
      switch (d.kind()) {
        case "ERROR" -> errors.add(d.text());
        case "WARNING", "MANDATORY_WARNING" -> warnings.add(d.text());
        case "OTHER" -> other.add(d.text());
        default -> { }
      }
    }
    if (!r.ok()) throw report(errors, String.join("\n", other));
    return warnings;
  }

  /** A summary, then each error in full (see {@link #describe}), the first {@link #MAX_REPORTED} of them. */
  private static StageException report(Path root, List<Diagnostic<? extends JavaFileObject>> diagnostics, String other) {
    List<String> errors = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics) {
      if (d.getKind() == Diagnostic.Kind.ERROR) errors.add(describe(root, d));
    }
    return report(errors, other);
  }

  private static StageException report(List<String> errors, String other) {
    int n = errors.size();
    List<String> details = new ArrayList<>(errors.subList(0, Math.min(n, MAX_REPORTED)));
    if (n > MAX_REPORTED) details.add("... and " + (n - MAX_REPORTED) + " more");
    if (n == 0 && !other.isBlank()) details.add(other.strip());
    return new StageException("Compilation failed with " + n + (n == 1 ? " error" : " errors"), details);
  }
}
