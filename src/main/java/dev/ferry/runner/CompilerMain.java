package dev.ferry.runner;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The compiler process of a build that runs annotation processors (third-party code), started
 * sandboxed by the control plane: {@code CompilerMain SOURCE_ROOT JAVAC_OPTIONS...}, where the
 * options name the class output ({@code -d}) in its own {@code /tmp}. It compiles every
 * {@code .java} file under {@code SOURCE_ROOT/src/main/java} and writes a zip to its stdout:
 * {@code classes/...} (every regular file of the class output), then {@code diagnostics} (one
 * {@code KIND<TAB>text} line each, the text as javac prints it, the file relative to the source
 * root, with backslashes and newlines escaped as {@code \\} and {@code \n}), then
 * {@code result} ({@code ok} or {@code failed}). Nothing else goes to stdout: what the processors
 * print goes to stderr. The control plane reads the zip with the extractor's limits.
 */
public final class CompilerMain {

  private CompilerMain() {
  }

  public static void main(String[] args) throws IOException {
    // processors that print must not corrupt the result stream
    OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 64 * 1024);
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
    if (args.length < 1) {
      // only the platform starts the compiler process: this is its mistake, said in the process's last words
      throw new IllegalArgumentException("usage: CompilerMain SOURCE_ROOT JAVAC_OPTIONS...");
    }
    Path root = Path.of(args[0]);
    List<String> options = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
    Path classes = Path.of(option(options, "-d"));
    Files.createDirectories(classes);
    String generated = option(options, "-s");
    if (generated != null) Files.createDirectories(Path.of(generated));
    List<Path> sources;
    try (Stream<Path> s = Files.walk(root.resolve("src/main/java"))) {
      sources = s.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p)).sorted().toList();
    }
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StringWriter other = new StringWriter();
    boolean ok;
    try (StandardJavaFileManager fm = compiler.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8)) {
      ok = compiler.getTask(other, fm, diagnostics, options, null, fm.getJavaFileObjectsFromPaths(sources)).call();
    } catch (RuntimeException e) {
      // a processor that throws: javac wraps it
      ok = false;
      other.write("The compiler failed: " + e + (e.getCause() != null ? " (caused by " + e.getCause() + ")" : ""));
    }
    try (ZipOutputStream zip = new ZipOutputStream(stdout)) {
      try (Stream<Path> s = Files.walk(classes)) {
        for (Path f : s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
          zip.putNextEntry(new ZipEntry("classes/" + classes.relativize(f).toString().replace('\\', '/')));
          Files.copy(f, zip);
          zip.closeEntry();
        }
      }
      StringBuilder lines = new StringBuilder();
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        lines.append(d.getKind()).append('\t').append(escape(describe(root, d))).append('\n');
      }
      if (!other.toString().isBlank()) lines.append("OTHER\t").append(escape(other.toString().strip())).append('\n');
      zip.putNextEntry(new ZipEntry("diagnostics"));
      zip.write(lines.toString().getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry("result"));
      zip.write((ok ? "ok" : "failed").getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    }
    System.exit(0);
  }

  private static String option(List<String> options, String name) {
    int i = options.indexOf(name);
    return i >= 0 && i + 1 < options.size() ? options.get(i + 1) : null;
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\n", "\\n");
  }

  /**
   * As the in-process build reports it ({@code ServiceCompiler.describe}): {@code path:line: error:
   * message}, the source line with a caret under the column, the message's other lines.
   */
  private static String describe(Path root, Diagnostic<? extends JavaFileObject> d) {
    List<String> message = d.getMessage(Locale.ROOT).lines().toList();
    StringBuilder sb = new StringBuilder();
    if (d.getSource() != null) {
      Path p = Path.of(d.getSource().toUri());
      sb.append(p.startsWith(root) ? root.relativize(p) : p.getFileName()).append(':').append(d.getLineNumber()).append(": ");
    }
    sb.append(d.getKind() == Diagnostic.Kind.ERROR ? "error: " : "warning: ").append(message.isEmpty() ? "" : message.get(0));
    if (d.getSource() != null && d.getLineNumber() >= 1) {
      try {
        d.getSource().getCharContent(true).toString().lines().skip(d.getLineNumber() - 1).findFirst().ifPresent(line -> {
          sb.append('\n').append(line).append('\n');
          long column = Math.max(1, d.getColumnNumber());
          for (int i = 0; i < column - 1 && i < line.length(); i++) sb.append(line.charAt(i) == '\t' ? '\t' : ' ');
          sb.append('^');
        });
      } catch (IOException e) {
        // no source line, then
      }
    }
    message.stream().skip(1).forEach(l -> sb.append('\n').append(l));
    return sb.toString();
  }
}
