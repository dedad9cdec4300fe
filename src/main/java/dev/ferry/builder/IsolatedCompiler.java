package dev.ferry.builder;

import dev.ferry.deployment.StageException;
import dev.ferry.sandbox.Launch;
import dev.ferry.sandbox.Limits;
import dev.ferry.sandbox.Sandbox;
import dev.ferry.settings.BuildConfig;
import dev.ferry.settings.ExtractConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Compiles a service whose build runs annotation processors (third-party code) in a compiler
 * process of its own, launched through the {@link Sandbox} with the build's {@link Limits}: it sees
 * the JDK, the jars it compiles against, the processors' jars and the service's source tree,
 * read-only, and writes classes only into its own {@code /tmp}; it runs as the sandbox's user.
 * The classes come back as a zip on its stdout (see {@code dev.ferry.runner.CompilerMain}), read
 * with the extractor's limits. A processor that exits, loops past {@code build.timeoutMs},
 * allocates past {@code build.memoryMb}, or writes garbage fails that build, with a message that
 * says which; the platform and other builds never notice.
 */
final class IsolatedCompiler {

  private static final Logger log = LoggerFactory.getLogger(IsolatedCompiler.class);
  private static final String MAIN = "dev.ferry.runner.CompilerMain";
  /** Threads that read compiler processes' output (they block; the common pool may have one thread). */
  private static final java.util.concurrent.ExecutorService READERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "ferry-compiler-output");
    t.setDaemon(true);
    return t;
  });
  /** How much of the compiler process's stderr a failure quotes. */
  private static final int STDERR_TAIL = 2_000;

  private final Sandbox sandbox;
  private final Path mainJar;
  private final Limits limits;
  private final long timeoutMs;
  private final long maxBytes;
  private final int maxEntries;
  private final int maxNameLength;

  /**
   * {@code mainJar}: the jar holding {@code CompilerMain} (the runner's, which needs nothing but the
   * JDK); {@code limits}: the compiler process's; {@code extract}: what its result may hold.
   */
  IsolatedCompiler(Sandbox sandbox, Path mainJar, BuildConfig build, ExtractConfig extract, Limits limits) {
    this.sandbox = sandbox;
    this.mainJar = mainJar;
    this.limits = limits;
    this.timeoutMs = build.timeoutMs();
    this.maxBytes = extract.maxBytes();
    this.maxEntries = extract.maxEntries();
    this.maxNameLength = extract.maxNameLength();
  }

  /** The result of one compile: whether it succeeded, and its diagnostics. */
  record Result(boolean ok, List<Diagnostic> diagnostics) {
  }

  /** A diagnostic: javac's kind ({@code ERROR}, {@code WARNING}...; {@code OTHER} for the compiler's other output) and its text. */
  record Diagnostic(String kind, String text) {

    /** One line of the compiler process's {@code diagnostics}: {@code KIND<TAB>text}, the text escaped. */
    static Diagnostic parse(String line) {
      int tab = line.indexOf('\t');
      if (tab < 0) return new Diagnostic("OTHER", line);
      StringBuilder text = new StringBuilder();
      String escaped = line.substring(tab + 1);
      for (int i = 0; i < escaped.length(); i++) {
        char c = escaped.charAt(i);
        if (c == '\\' && i + 1 < escaped.length()) {
          char next = escaped.charAt(++i);
          text.append(next == 'n' ? '\n' : next);
        } else {
          text.append(c);
        }
      }
      return new Diagnostic(line.substring(0, tab), text.toString());
    }
  }

  /**
   * Compiles {@code serviceRoot}'s sources against {@code classpath} with {@code processorPath}
   * ({@code javacOptions} without paths) into {@code outputDir}, in build dir {@code work}. Blocks.
   */
  Result compile(Path serviceRoot, Path outputDir, Path work, List<Path> classpath, List<Path> processorPath, List<String> javacOptions)
      throws StageException {
    String name = "build-" + work.getFileName() + "-" + Long.toString(System.nanoTime(), 36);
    Launch launch = sandbox.launch(name, limits);
    Process p = null;
    try {
      String main = launch.readOnly(mainJar, "main");
      List<String> cp = classpath.stream().map(j -> launch.readOnly(j, "cp")).toList();
      List<String> pp = processorPath.stream().map(j -> launch.readOnly(j, "proc")).toList();
      String src = launch.readOnlyDir(serviceRoot, "src");
      String tmp = launch.tmp(Files.createDirectories(work.resolve("compiler-tmp")));
      List<String> cmd = new ArrayList<>(List.of(sandbox.java(), "-Xmx" + limits.heapMb() + "m", "-XX:+ExitOnOutOfMemoryError",
          "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xshare:auto", "-XX:ErrorFile=" + tmp + "/hs_err.log", "-Djava.io.tmpdir=" + tmp,
          "-Duser.home=" + tmp, "-cp", main, MAIN, src));
      cmd.addAll(javacOptions);
      cmd.addAll(List.of("-d", tmp + "/classes", "-s", tmp + "/generated", "-cp", String.join(java.io.File.pathSeparator, cp)));
      if (!pp.isEmpty()) cmd.addAll(List.of("-processorpath", String.join(java.io.File.pathSeparator, pp)));
      ProcessBuilder pb = new ProcessBuilder(launch.command(cmd)).directory(work.toFile());
      pb.environment().clear();
      pb.environment().put("PATH", "/usr/bin:/bin");
      pb.environment().put("LANG", "C.UTF-8");
      pb.environment().put("HOME", tmp);
      long t0 = System.nanoTime();
      p = pb.start();
      p.getOutputStream().close();
      Process proc = p;
      CompletableFuture<byte[]> stderr = CompletableFuture.supplyAsync(() -> tail(proc.getErrorStream()), READERS);
      CompletableFuture<Result> read = CompletableFuture.supplyAsync(() -> {
        try {
          return read(proc.getInputStream(), outputDir);
        } catch (StageException e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      }, READERS);
      Result result;
      try {
        result = read.get(timeoutMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        Sandbox.kill(p);
        throw new StageException("The compiler process that runs the annotation processors did not finish within " + timeoutMs
            + " ms (build.timeoutMs) and was killed: does a processor loop?");
      } catch (ExecutionException e) {
        if (!p.waitFor(10, TimeUnit.SECONDS)) Sandbox.kill(p);
        throw failure(p, e.getCause(), tailOf(stderr), name);
      }
      if (!p.waitFor(Math.max(1, timeoutMs - (System.nanoTime() - t0) / 1_000_000), TimeUnit.MILLISECONDS)) {
        Sandbox.kill(p);
        throw new StageException("The compiler process that runs the annotation processors did not exit within " + timeoutMs
            + " ms (build.timeoutMs) and was killed");
      }
      if (p.exitValue() != 0) throw failure(p, null, tailOf(stderr), name);
      log.debug("Compiled {} in a sandboxed compiler process in {} ms", serviceRoot, (System.nanoTime() - t0) / 1_000_000);
      return result;
    } catch (IOException e) {
      throw new StageException("Cannot run the compiler process for the annotation processors: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StageException("Interrupted while compiling", e);
    } finally {
      if (p != null && p.isAlive()) Sandbox.kill(p);
      sandbox.release(name);
    }
  }

  /** Why the compiler process failed, from its exit status, its last words and what reading its output found. */
  private StageException failure(Process p, Throwable readFailure, String stderr, String name) throws InterruptedException {
    p.waitFor(5, TimeUnit.SECONDS);
    String why;
    if (p.isAlive()) {
      why = "it wrote an unreadable result" + (readFailure == null ? "" : " (" + readFailure.getMessage() + ")");
    } else {
      int status = p.exitValue();
      if (status == 3) why = "it ran out of memory (build.memoryMb " + limits.heapMb() + " MB): does a processor allocate without bound?";
      else if (status == 128 + 9) why = sandbox.killedFor(name, limits).orElse("it was killed (signal 9)");
      else if (status > 128) why = "it was killed by signal " + (status - 128);
      else if (status != 0) why = "it exited with status " + status + " before it finished: did a processor call System.exit?";
      else why = "its result was unreadable" + (readFailure == null ? "" : ": " + readFailure.getMessage());
    }
    if (readFailure instanceof StageException se && !p.isAlive() && p.exitValue() == 0) return se;
    return new StageException("The compiler process that runs the annotation processors failed: " + why
        + (stderr.isBlank() ? "" : ". Its last output: " + stderr.strip()));
  }

  /** Unpacks the result zip's classes into {@code outputDir}, counting bytes and entries; returns the result. */
  private Result read(InputStream in, Path outputDir) throws StageException {
    Path root;
    try {
      Files.createDirectories(outputDir);
      root = outputDir.toRealPath();
    } catch (IOException e) {
      throw new StageException("Cannot create " + outputDir + ": " + e.getMessage(), e);
    }
    List<Diagnostic> diagnostics = new ArrayList<>();
    String result = null;
    long total = 0;
    int entries = 0;
    byte[] buf = new byte[64 * 1024];
    try (ZipInputStream zip = new ZipInputStream(in)) {
      ZipEntry e;
      while ((e = zip.getNextEntry()) != null) {
        if (++entries > maxEntries) throw new StageException("The compiler's result has more than " + maxEntries + " entries (extract.maxEntries)");
        String entry = e.getName();
        if (entry.equals("diagnostics")) {
          for (String line : new String(readSmall(zip), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) diagnostics.add(Diagnostic.parse(line));
          }
        } else if (entry.equals("result")) {
          result = new String(readSmall(zip), StandardCharsets.UTF_8).trim();
        } else if (entry.startsWith("classes/") && !e.isDirectory()) {
          Path dest = destination(root, entry.substring("classes/".length()));
          Files.createDirectories(dest.getParent());
          try (OutputStream out = Files.newOutputStream(dest, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int n;
            while ((n = zip.read(buf)) != -1) {
              total += n;
              if (total > maxBytes) throw new StageException("The compiled classes are over " + maxBytes + " bytes (extract.maxBytes)");
              out.write(buf, 0, n);
            }
          }
        } else {
          throw new StageException("The compiler's result has an unexpected entry " + entry);
        }
      }
    } catch (StageException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new StageException("The compiler's result is unreadable: " + e.getMessage(), e);
    }
    if (result == null) throw new StageException("The compiler's result is incomplete");
    return new Result(result.equals("ok"), diagnostics);
  }

  private static byte[] readSmall(InputStream in) throws IOException, StageException {
    byte[] b = in.readNBytes(4 * 1024 * 1024);
    if (in.read() != -1) throw new StageException("The compiler's diagnostics are over 4 MB");
    return b;
  }

  /** Where a class file named {@code name} goes under {@code root}, or a refusal if anywhere else. */
  private Path destination(Path root, String name) throws StageException {
    if (name.isEmpty() || name.length() > maxNameLength || name.startsWith("/") || name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0
        || List.of(name.split("/")).contains("..")) {
      throw new StageException("The compiler's result names a file outside its output: '" + name + "'");
    }
    Path dest = root.resolve(name).normalize();
    if (!dest.startsWith(root)) throw new StageException("The compiler's result names a file outside its output: '" + name + "'");
    return dest;
  }

  private static byte[] tail(InputStream in) {
    ByteArrayOutputStream keep = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buf)) != -1) {
        keep.write(buf, 0, n);
        if (keep.size() > 4 * STDERR_TAIL) {
          byte[] all = keep.toByteArray();
          keep.reset();
          keep.write(all, all.length - STDERR_TAIL, STDERR_TAIL);
        }
      }
    } catch (IOException e) {
      // the process ended
    }
    return keep.toByteArray();
  }

  private static String tailOf(CompletableFuture<byte[]> stderr) {
    try {
      byte[] b = stderr.get(2, TimeUnit.SECONDS);
      String s = new String(b, StandardCharsets.UTF_8);
      return s.length() > STDERR_TAIL ? s.substring(s.length() - STDERR_TAIL) : s;
    } catch (Exception e) {
      return "";
    }
  }
}
