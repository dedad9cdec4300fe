package dev.ferry.cli;

import dev.ferry.Config;
import dev.ferry.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code ferry server}: starts the platform and keeps it running until interrupted. */
@Command(name = "server", mixinStandardHelpOptions = true,
    description = "Start the Ferry platform (API and proxy). Settings: --config file, then FERRY_* variables, then these flags.")
public final class ServerCommand implements Callable<Integer> {

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
  @Option(names = "--deploy", paramLabel = "DIR", description = "Once up, deploy the service in DIR (e.g. examples/hello)")
  Path deploy;

  /** The settings: defaults, the config file, the environment, then the flags. */
  Config config() {
    Path file = configFile != null ? configFile : Path.of("config", "ferry.json");
    if (configFile != null && !java.nio.file.Files.isRegularFile(configFile)) {
      throw new IllegalArgumentException("Config file not found: " + configFile);
    }
    Config c = Config.load(file, System.getenv());
    if (host != null) c.setHost(host);
    if (apiPort != null) c.setApiPort(apiPort);
    if (proxyPort != null) c.setProxyPort(proxyPort);
    if (dataDir != null) c.setDataDir(dataDir);
    if (domain != null) c.setDomain(domain);
    return c;
  }

  @Override
  public Integer call() throws Exception {
    Config config = config();
    Platform platform;
    try {
      platform = Platform.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      System.err.println("ferry: cannot start: " + e.getCause().getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        platform.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      stopped.countDown();
    }, "ferry-shutdown"));
    if (deploy != null) {
      String api = "http://" + hostForClients(config.host()) + ":" + platform.apiPort();
      java.io.PrintWriter out = new java.io.PrintWriter(System.out, true), err = new java.io.PrintWriter(System.err, true);
      int code;
      // the configured token, else the one the platform generated (or found) in its data dir
      String token = config.token() != null ? config.token() : java.nio.file.Files.readString(platform.dataDir().token()).trim();
      try (FerryClient client = new FerryClient(api, token)) {
        code = new Deployer(client, out, err, false, false).deploy(deploy, null);
      }
      if (code != 0) System.err.println("ferry: the example did not deploy; the platform keeps running");
    }
    stopped.await();
    return 0;
  }

  static String hostForClients(String bind) {
    return bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
  }
}
