package dev.ferry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ferry command as a user runs it: a JVM of its own running {@code dev.ferry.Main} on the
 * project's classes (what {@code scripts/ferry} execs once the jar is built), with the flags the
 * script gives client commands, an environment without the test's {@code FERRY_*} variables, and
 * a config home of its own ({@code XDG_CONFIG_HOME}).
 */
final class FerryProcess {

  static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

  private final Map<String, String> env = new HashMap<>();
  private Path cwd = Path.of("").toAbsolutePath();

  /** A CLI whose user config lives in {@code configHome}. */
  FerryProcess(Path configHome) {
    env.putAll(System.getenv());
    env.keySet().removeIf(k -> k.startsWith("FERRY_"));
    env.put("XDG_CONFIG_HOME", configHome.toString());
  }

  FerryProcess env(String name, String value) {
    if (value == null) env.remove(name);
    else env.put(name, value);
    return this;
  }

  FerryProcess in(Path dir) {
    this.cwd = dir;
    return this;
  }

  /** One finished run of {@code ferry args...}. */
  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- out\n" + out + "\n--- err\n" + err;
    }
  }

  List<String> command(String... args) {
    List<String> cmd = new ArrayList<>(List.of(JAVA.toString()));
    String command = List.of(args).stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
    if (!command.equals("server") && !command.equals("dev")) cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.ferry.Main"));
    cmd.addAll(List.of(args));
    return cmd;
  }

  ProcessBuilder builder(List<String> cmd) {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    return pb;
  }

  /** Runs {@code ferry args...} to its end, its standard input closed. */
  Run run(String... args) {
    return runWithInput(null, args);
  }

  /** Runs {@code ferry args...} with {@code stdin} as its standard input. */
  Run runWithInput(String stdin, String... args) {
    try (Running r = start(args)) {
      try (var in = r.process.getOutputStream()) {
        if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      if (!r.process.waitFor(3, TimeUnit.MINUTES)) throw new AssertionError("ferry " + String.join(" ", args) + " did not end:\n" + r);
      r.drained();
      return new Run(r.process.exitValue(), r.out(), r.err());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Whether this host's {@code env} can reset a signal to its default (coreutils 8.31 and later). */
  private static final boolean DEFAULT_SIGINT = defaultSigint();

  private static boolean defaultSigint() {
    try {
      return new ProcessBuilder("env", "--default-signal=INT", "true").start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Starts {@code ferry args...} and keeps reading what it prints. Its Ctrl-C works however the tests
   * were started: a background job of a non-interactive shell (CI started with {@code &}) ignores
   * SIGINT, every process under it inherits that, and a JVM that ignores SIGINT at its start keeps
   * ignoring it; {@code env --default-signal=INT} gives it back its default.
   */
  Running start(String... args) {
    try {
      List<String> cmd = command(args);
      if (DEFAULT_SIGINT) cmd.addAll(0, List.of("env", "--default-signal=INT"));
      return new Running(builder(cmd).start());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A running ferry command; closing it ends it (and what it started) if it still runs. */
  static final class Running implements AutoCloseable {
    final Process process;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();
    private final Thread outReader;
    private final Thread errReader;

    Running(Process process) {
      this.process = process;
      outReader = reader(process.getInputStream(), out);
      errReader = reader(process.getErrorStream(), err);
    }

    private static Thread reader(InputStream in, StringBuffer to) {
      Thread t = new Thread(() -> {
        byte[] buf = new byte[8192];
        try {
          for (int n; (n = in.read(buf)) > 0; ) to.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        } catch (IOException ended) {
          // the process ended
        }
      });
      t.setDaemon(true);
      t.start();
      return t;
    }

    String out() {
      return out.toString();
    }

    String err() {
      return err.toString();
    }

    void drained() throws InterruptedException {
      outReader.join(10_000);
      errReader.join(10_000);
    }

    /** Waits until standard output holds {@code text} after {@code from} characters; returns where it ends. */
    int awaitOut(String text, int from, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        int at = out.indexOf(text, from);
        if (at >= 0) return at + text.length();
        if (!process.isAlive()) break;
        TestPlatform.sleep(50);
      }
      int at = out.indexOf(text, from);
      if (at >= 0) return at + text.length();
      throw new AssertionError("never printed '" + text + "':\n" + this);
    }

    /**
     * Waits up to {@code timeout} for the process to end: null if it did, else what its threads are
     * doing ({@code jcmd <pid> Thread.print}), for the failure to say where it hangs.
     */
    String hangsAfter(Duration timeout) throws InterruptedException {
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return null;
      try {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), String.valueOf(process.pid()),
            "Thread.print").redirectErrorStream(true).start();
        String dump = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        jcmd.waitFor(30, TimeUnit.SECONDS);
        return dump;
      } catch (IOException e) {
        return "(no thread dump: " + e + ")";
      }
    }

    /** What Ctrl-C does: SIGINT to the process. */
    void interrupt() throws IOException, InterruptedException {
      new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroy();
        try {
          if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public String toString() {
      return "--- out\n" + out + "\n--- err\n" + err;
    }
  }

  /** A service tree in {@code dir} whose verticle answers {@code text} and logs it at start. */
  static Path service(Path dir, String text) throws IOException {
    Path src = dir.resolve("src/main/java/fixture/say");
    Files.createDirectories(src);
    Files.writeString(src.resolve("Say.java"), """
        package fixture.say;

        import dev.ferry.sdk.ServiceLog;
        import io.vertx.core.Future;
        import io.vertx.core.VerticleBase;

        public class Say extends VerticleBase {
          @Override
          public Future<?> start() {
            ServiceLog.info("starting: %s");
            return vertx.createHttpServer().requestHandler(req -> {
              ServiceLog.info("asked " + req.path());
              req.response().end("%s");
            }).listen(config().getInteger("http.port"), config().getString("http.host"));
          }
        }
        """.formatted(text, text));
    return dir;
  }

  static Duration minutes(int n) {
    return Duration.ofMinutes(n);
  }
}
