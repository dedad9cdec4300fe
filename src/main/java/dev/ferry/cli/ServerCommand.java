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

  /** The settings {@code server} and {@code dev} share. */
  static final class PlatformOptions {
    @Option(names = "--config", description = "JSON config file (default: config/ferry.json if present)")
    Path configFile;
    @Option(names = "--host", description = "Address the API and proxy bind (FERRY_HOST)")
    String host;
    @Option(names = "--api-port", description = "API port (FERRY_API_PORT)")
    Integer apiPort;
    @Option(names = "--proxy-port", description = "Proxy port (FERRY_PROXY_PORT)")
    Integer proxyPort;
    @Option(names = "--data-dir", description = "Data dir (FERRY_DATA_DIR)")
    Path dataDir;
    @Option(names = "--domain", description = "Services answer at <service>.<domain> (FERRY_DOMAIN)")
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
  @Option(names = "--deploy", paramLabel = "DIR", description = "Once up, deploy the service in DIR (e.g. examples/hello)")
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
   * {@code args} (after {@code server}) read without picocli's model, when each is one of the
   * command's {@code --option value} (or {@code --option=value}); anything else (help, a typo)
   * is left to picocli, which says what is wrong. Picocli's classes are Java 5 class files,
   * which the JVM cannot keep in a class-data-sharing archive: building its model took 0.2 s of
   * each platform start on an idle machine, more on a busy one.
   */
  static java.util.Optional<ServerCommand> parse(String... args) {
    ServerCommand command = new ServerCommand();
    command.platformOptions = new PlatformOptions();
    java.util.Map<String, java.util.Map.Entry<java.lang.reflect.Field, Object>> options = new java.util.HashMap<>();
    for (Object target : java.util.List.of(command, command.platformOptions)) {
      for (java.lang.reflect.Field f : target.getClass().getDeclaredFields()) {
        Option o = f.getAnnotation(Option.class);
        if (o != null) for (String name : o.names()) options.put(name, java.util.Map.entry(f, target));
      }
    }
    for (int i = 0; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      String name = eq < 0 ? args[i] : args[i].substring(0, eq);
      var option = options.get(name);
      if (option == null || (eq < 0 && (i + 1 >= args.length || args[i + 1].startsWith("-")))) return java.util.Optional.empty();
      String value = eq < 0 ? args[++i] : args[i].substring(eq + 1);
      java.lang.reflect.Field f = option.getKey();
      try {
        Object v = f.getType() == Path.class ? Path.of(value) : f.getType() == Integer.class ? Integer.valueOf(value) : value;
        f.set(option.getValue(), v);
      } catch (RuntimeException | IllegalAccessException e) {
        return java.util.Optional.empty();
      }
    }
    return java.util.Optional.of(command);
  }

  static String hostForClients(String bind) {
    return bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
  }
}
