package dev.ferry.cli;

import dev.ferry.Config;
import dev.ferry.Platform;
import io.vertx.core.Vertx;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ferry server}: starts the platform and keeps it running until interrupted. */
@Command(name = "server", mixinStandardHelpOptions = true,
    description = "Start the Ferry platform (API and proxy). Settings: --config file, then FERRY_* variables, then these flags.")
public final class ServerCommand implements Callable<Integer> {
  static final String CONFIG = "--config", HOST = "--host", API_PORT = "--api-port", PROXY_PORT = "--proxy-port", DATA_DIR = "--data-dir",
      DOMAIN = "--domain", DEPLOY = "--deploy";

  /** The settings {@code server} and {@code dev} share. */
  static final class PlatformOptions {
    @Option(names = CONFIG, description = "JSON config file (default: config/ferry.json if present)")
    Path configFile;
    @Option(names = HOST, description = "Address the API and proxy bind (FERRY_HOST)")
    String host;
    @Option(names = API_PORT, description = "API port (FERRY_API_PORT)")
    Integer apiPort;
    @Option(names = PROXY_PORT, description = "Proxy port (FERRY_PROXY_PORT)")
    Integer proxyPort;
    @Option(names = DATA_DIR, description = "Data dir (FERRY_DATA_DIR)")
    Path dataDir;
    @Option(names = DOMAIN, description = "Services answer at <service>.<domain> (FERRY_DOMAIN)")
    String domain;

    /** The settings: defaults, the config file, the environment, then the flags. */
    Config config() {
      Path file = configFile != null ? configFile : Path.of("config", "ferry.json");
      if (configFile != null && !Files.isRegularFile(configFile)) {
        throw new IllegalArgumentException("Config file not found: " + configFile);
      }
      Config c = Config.load(file, System.getenv());
      if (host != null) c = c.with("host", host);
      if (apiPort != null) c = c.with("api.port", apiPort);
      if (proxyPort != null) c = c.with("proxy.port", proxyPort);
      if (dataDir != null) c = c.with("dataDir", dataDir);
      if (domain != null) c = c.with("domain", domain);
      return c;
    }
  }

  @picocli.CommandLine.Mixin
  PlatformOptions platformOptions;
  @Option(names = DEPLOY, paramLabel = "DIR", description = "Once up, deploy the service in DIR (e.g. examples/hello)")
  Path deploy;

  Config config() {
    return platformOptions.config();
  }

  /**
   * Starts a platform on a Vert.x of its own, closed when the platform is; a platform that cannot
   * start (a port in use, an unwritable data dir) fails at once with the reason.
   */
  static Platform start(Config config) throws Exception {
    Vertx vertx = Platform.newVertx();
    try {
      Platform platform = Platform.start(vertx, config).await();
      // Ctrl-C ends the process: a close that hangs is reported, with where each thread is, not waited for forever
      long limitMs = config.run().drainTimeoutMs() + CLOSE_MARGIN_MS;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> awaitClose(platform.close().compose(x -> vertx.close()), limitMs, System.err),
          "ferry-shutdown"));
      return platform;
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
  }

  /** How much longer than its drain timeout a platform's close may take when the process ends. */
  static final long CLOSE_MARGIN_MS = 25_000;
  public static final String NOT_CLOSED = "the platform did not close";

  /** Waits up to {@code limitMs} for {@code closing}; past that, says so on {@code err} with every thread's stack, and returns. */
  static void awaitClose(io.vertx.core.Future<?> closing, long limitMs, java.io.PrintStream err) {
    try {
      closing.await(limitMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      err.println("ferry: " + NOT_CLOSED + " within " + limitMs + " ms; exiting anyway. Its threads:\n" + threads());
    } catch (Exception ignored) {
      // exiting anyway
    }
  }

  /** Every thread of this JVM: its name, state and stack. */
  private static String threads() {
    StringBuilder sb = new StringBuilder();
    Thread.getAllStackTraces().forEach((t, stack) -> {
      sb.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
      for (StackTraceElement e : stack) sb.append("    at ").append(e).append('\n');
    });
    return sb.toString();
  }

  /** The token clients of {@code platform} send: the configured one, else the one it generated. */
  static String tokenOf(Platform platform) throws java.io.IOException {
    return platform.config().token() != null ? platform.config().token() : Files.readString(platform.dataDir().token()).trim();
  }

  static String apiUrl(Config config, Platform platform) {
    return "http://" + hostForClients(config.host()) + ":" + platform.apiPort();
  }

  @Override
  public Integer call() throws Exception {
    Config config;
    Platform platform;
    try {
      config = config();
      platform = start(config);
    } catch (Exception e) {
      System.err.println("ferry server: cannot start: " + e.getMessage());
      return 1;
    }
    if (deploy != null) {
      PrintWriter out = new PrintWriter(System.out, true), err = new PrintWriter(System.err, true);
      int code;
      try (FerryClient client = new FerryClient(apiUrl(config, platform), tokenOf(platform))) {
        code = new Deployer(client, out, err, false, false).deploy(deploy, null);
      }
      if (code != 0) System.err.println("ferry: the example did not deploy; the platform keeps running");
    }
    new CountDownLatch(1).await();
    return 0;
  }

  /**
   * {@code args} (after {@code server}) read without picocli, when each is one of the command's
   * {@code --option value} (or {@code --option=value}); anything else (help, a typo) is left to
   * picocli, which says what is wrong. Picocli's classes are Java 5 class files, which the JVM
   * cannot keep in a class-data-sharing archive: building its model took 0.2 s of each platform
   * start, and reading its annotations alone 0.24 s of a restart on two cores.
   */
  static java.util.Optional<ServerCommand> parse(String... args) {
    ServerCommand command = new ServerCommand();
    PlatformOptions o = command.platformOptions = new PlatformOptions();
    for (int i = 0; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      String name = eq < 0 ? args[i] : args[i].substring(0, eq);
      if (eq < 0 && (i + 1 >= args.length || args[i + 1].startsWith("-"))) return java.util.Optional.empty();
      String value = eq < 0 ? args[++i] : args[i].substring(eq + 1);
      try {
        switch (name) {
          case CONFIG -> o.configFile = Path.of(value);
          case HOST -> o.host = value;
          case API_PORT -> o.apiPort = Integer.valueOf(value);
          case PROXY_PORT -> o.proxyPort = Integer.valueOf(value);
          case DATA_DIR -> o.dataDir = Path.of(value);
          case DOMAIN -> o.domain = value;
          case DEPLOY -> command.deploy = Path.of(value);
          default -> {
            return java.util.Optional.empty();
          }
        }
      } catch (RuntimeException notAValue) {
        return java.util.Optional.empty();
      }
    }
    return java.util.Optional.of(command);
  }

  static String hostForClients(String bind) {
    return bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
  }
}
