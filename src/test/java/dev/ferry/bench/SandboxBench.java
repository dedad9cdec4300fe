package dev.ferry.bench;

import dev.ferry.TestPlatform;
import dev.ferry.cli.Archives;
import io.vertx.core.json.JsonObject;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What the sandbox costs, through real platforms, sandboxed ({@code run.sandbox: bwrap}) against
 * unsandboxed ({@code none}), alternating round by round so that the machine's noise hits both:
 * <ul>
 *   <li>runner start: a deploy on a platform without warm runners, its load stage (built → loaded:
 *       launch, the runner's socket, hello, load), and built → deployed;</li>
 *   <li>warm deploy: an edited source (so it compiles) with warm runners, upload → first 200
 *       through the proxy, and the deployment's queued → deployed (twelve a platform, the first
 *       four not counted);</li>
 *   <li>a build with an annotation processor (the {@code processors} fixture): queued → built in
 *       the sandboxed compiler process, in the same process unsandboxed, and the same compile
 *       in-process with javax.tools (what the platform did before: no process, no sandbox).</li>
 * </ul>
 * Not a test: {@code java -cp target/test-classes:target/classes:$(cat target/bench.classpath) dev.ferry.bench.SandboxBench [rounds]}.
 */
public final class SandboxBench {

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    if (!TestPlatform.SANDBOX) throw new IllegalStateException("bubblewrap is not installed: nothing to compare");
    Path repoDir = Files.createTempDirectory("bench-processors");
    installBanner(repoDir);
    Map<String, List<Double>> m = new java.util.TreeMap<>();
    for (int round = 0; round < rounds; round++) {
      for (String sandbox : List.of("bwrap", "none")) {
        runnerStart(sandbox, m);
        warmDeploys(sandbox, m);
        processorBuild(sandbox, repoDir, m);
      }
      inProcessProcessorCompile(repoDir, m);
      System.err.printf("round %d of %d done%n", round + 1, rounds);
    }
    System.out.println("| figure | sandboxed (bwrap) | unsandboxed (none) |");
    System.out.println("|---|---|---|");
    for (String figure : List.of("runner start: built → loaded", "runner start: built → deployed", "warm deploy: upload → first 200",
        "warm deploy: queued → deployed", "build with a processor: queued → built")) {
      System.out.printf("| %s | %s ms | %s ms |%n", figure, Stats.of(m.get(figure + " bwrap")).summary(1),
          Stats.of(m.get(figure + " none")).summary(1));
    }
    System.out.printf("| the same compile in-process (javax.tools, the processor in the platform's JVM) | | %s ms |%n",
        Stats.of(m.get("in-process compile")).summary(1));
    TestPlatform.deleteTree(repoDir);
    System.exit(0);
  }

  /** A deploy on a platform with no warm runner: the runner starts for it. */
  static void runnerStart(String sandbox, Map<String, List<Double>> m) {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.warmRunners", 0).with("run.sandbox", sandbox))) {
      ferry.deploy("hello", "prime"); // the compiler and the platform's own paths, warm; the CDS archive made
      JsonObject t = ferry.deploy("hello", "cold").getJsonObject("timeline");
      add(m, "runner start: built → loaded " + sandbox, ms(t.getString("built"), t.getString("loaded")));
      add(m, "runner start: built → deployed " + sandbox, ms(t.getString("built"), t.getString("deployed")));
    }
  }

  /** Twelve edited deploys of hello with the default warm runners; the first four warm the platform up and are not counted. */
  static void warmDeploys(String sandbox, Map<String, List<Double>> m) throws Exception {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.sandbox", sandbox))) {
      ferry.deploy("hello", "warm");
      for (int i = 0; i < 12; i++) {
        Path tree = edited("hello", "// edit " + i + " " + System.nanoTime());
        Path tgz = Files.createTempFile("warm", ".tar.gz");
        Archives.pack(tree, tgz);
        long t0 = System.nanoTime();
        String id = ferry.upload("warm", tgz).bodyAsJsonObject().getString("id");
        JsonObject d = ferry.awaitFinal(id);
        while (!id.equals(ferry.viaProxy("warm", "/").bodyAsJsonObject().getString("deployment"))) Thread.sleep(1);
        double total = (System.nanoTime() - t0) / 1e6;
        if (!"deployed".equals(d.getString("state"))) throw new IllegalStateException(d.encodePrettily());
        if (i >= 4) {
          add(m, "warm deploy: upload → first 200 " + sandbox, total);
          add(m, "warm deploy: queued → deployed " + sandbox, ms(d.getJsonObject("timeline").getString("queued"),
              d.getJsonObject("timeline").getString("deployed")));
        }
        Files.delete(tgz);
        TestPlatform.deleteTree(tree);
      }
    }
  }

  /** Two builds of the processors fixture (an edited source each): the second, warm, counted. */
  static void processorBuild(String sandbox, Path repoDir, Map<String, List<Double>> m) throws Exception {
    try (TestPlatform ferry = TestPlatform.start(c -> c.with("run.sandbox", sandbox)
        .with("maven.remoteRepositories", List.of(repoDir.toUri().toString(), dev.ferry.FileRepository.mavenLocalRepositoryUrl())))) {
      for (int i = 0; i < 2; i++) {
        Path tree = edited("processors", "// edit " + i + " " + System.nanoTime());
        JsonObject d = ferry.awaitFinal(ferry.upload("processed", TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
        if (!"deployed".equals(d.getString("state"))) throw new IllegalStateException(d.encodePrettily());
        if (i == 1) add(m, "build with a processor: queued → built " + sandbox, ms(d.getJsonObject("timeline").getString("queued"),
            d.getJsonObject("timeline").getString("built")));
        TestPlatform.deleteTree(tree);
      }
    }
  }

  /** The processors fixture compiled by javax.tools in this JVM, as the platform did before: the second of two runs counted. */
  static void inProcessProcessorCompile(Path repoDir, Map<String, List<Double>> m) throws Exception {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    Path processor = repoDir.resolve("fixture/proc/banner-processor/1.0/banner-processor-1.0.jar");
    for (int i = 0; i < 2; i++) {
      Path tree = edited("processors", "// edit " + i + " " + System.nanoTime());
      Path out = Files.createTempDirectory("classes");
      List<String> args = new ArrayList<>(List.of("--release", "11", "-g", "-parameters", "-encoding", "UTF-8", "-d", out.toString(),
          "-cp", System.getProperty("java.class.path"), "-processorpath", processor.toString()));
      try (Stream<Path> s = Files.walk(tree.resolve("src/main/java"))) {
        s.filter(p -> p.toString().endsWith(".java")).forEach(p -> args.add(p.toString()));
      }
      long t0 = System.nanoTime();
      int rc = javac.run(null, new ByteArrayOutputStream(), new ByteArrayOutputStream(), args.toArray(String[]::new));
      double took = (System.nanoTime() - t0) / 1e6;
      if (rc != 0) throw new IllegalStateException("javac failed");
      if (i == 1) add(m, "in-process compile", took);
      TestPlatform.deleteTree(out);
      TestPlatform.deleteTree(tree);
    }
  }

  private static void installBanner(Path repoDir) throws Exception {
    new dev.ferry.FileRepository(repoDir).installBannerProcessor();
  }

  /** A copy of fixture {@code name} with {@code comment} appended to each Java source. */
  private static Path edited(String name, String comment) throws Exception {
    Path from = TestPlatform.FIXTURES.resolve(name);
    Path to = Files.createTempDirectory("bench-" + name);
    try (Stream<Path> s = Files.walk(from)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        Path dest = to.resolve(from.relativize(f).toString());
        Files.createDirectories(dest.getParent());
        String text = Files.readString(f);
        Files.writeString(dest, f.toString().endsWith(".java") ? text + "\n" + comment + "\n" : text);
      }
    }
    return to;
  }

  private static void add(Map<String, List<Double>> m, String key, double value) {
    m.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
  }

  private static double ms(String from, String to) {
    return Duration.between(Instant.parse(from), Instant.parse(to)).toNanos() / 1e6;
  }
}
