package dev.ferry.cli;

import dev.ferry.Config;
import dev.ferry.Platform;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.StateName;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code ferry dev [DIR]}: the local loop. Uses the platform that answers at the API address, or
 * starts one in this process; deploys DIR, prints its URL and its log, and redeploys on every saved
 * change under {@code src/} or to {@code pom.xml}, printing {@code live in N ms}. Ctrl-C stops what
 * it started.
 */
@Command(name = "dev", mixinStandardHelpOptions = true,
    description = {"Develop a service live: deploy DIR (default .) to the platform at the API address, or to one started "
        + "here (same settings as server; data in DIR/target/ferry-dev unless --data-dir), stream its log, and redeploy "
        + "on every saved change under src/ or to pom.xml.",
        "Ctrl-C stops what it started (the platform, when it started one)."})
final class DevCommand implements Callable<Integer> {

  /** How long the tree must stay quiet after a change before it is deployed (an editor's save is several events). */
  static final long QUIET_MS = 40;

  @Parameters(index = "0", defaultValue = ".", description = "The service's directory (default: .)")
  Path dir;
  @Option(names = "--name", description = "Service name (default: the directory's name)")
  String name;
  @Option(names = "--server", paramLabel = "URL", description = "Use the platform at URL (default: the one at --host/--api-port if it answers, else start one)")
  String server;
  @Option(names = "--token", paramLabel = "TOKEN", description = "API token for --server (default: as every command finds it)")
  String token;
  @Option(names = {"-v", "--verbose"}, description = "Print every log line (default: what the service logs, and warnings and errors)")
  boolean verbose;
  @Mixin
  ServerCommand.PlatformOptions platformOptions;
  @ParentCommand
  FerryCommand ferry;
  @Spec
  CommandSpec spec;

  /** Deployments this loop started and waits for, with when their change was seen (nanoTime). */
  private final Map<String, Long> waiting = new ConcurrentHashMap<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
    Path root = dir.toAbsolutePath().normalize();
    String service = name != null ? name : Deployer.defaultName(root);
    Optional<String> problem = Deployment.nameProblem(service);
    if (problem.isPresent()) {
      err.println("ferry dev: " + problem.get() + (name == null ? " (the directory's name; pass --name NAME)" : ""));
      return 1;
    }
    if (!Files.isDirectory(root.resolve("src"))) {
      err.println("ferry dev: " + root + " has no src/ directory (a service is a Maven-layout tree: src/main/java/**)");
      return 1;
    }
    Map<String, String> env = ferry.env();
    String api;
    String apiToken;
    try {
      if (server != null) {
        api = ClientOptions.normalize(server);
        apiToken = token != null ? token : ClientOptions.tokenOf(env, api);
      } else {
        Config config = platformOptions.config();
        String local = "http://" + ServerCommand.hostForClients(config.host()) + ":" + config.api().port();
        if (config.api().port() != 0 && answers(local)) {
          api = local;
          apiToken = token != null ? token : ClientOptions.tokenOf(env, api);
          out.println("Using the platform at " + api);
        } else {
          if (platformOptions.dataDir == null && env.get("FERRY_DATA_DIR") == null
              && config.dataDir().equals(Config.DEFAULTS.dataDir())) {
            // beside the build output: never packed, ignored by git, gone with mvn clean
            config = config.with("dataDir", root.resolve("target/ferry-dev"));
          }
          Platform platform = ServerCommand.start(config);
          api = ServerCommand.apiUrl(config, platform);
          apiToken = ServerCommand.tokenOf(platform);
          out.println("Started a platform: API " + api + ", services at " + platform.urlOf("<service>") + ", data in "
              + platform.dataDir().root() + " (Ctrl-C stops it)");
        }
      }
    } catch (Exception e) {
      err.println("ferry dev: cannot start a platform: " + e.getMessage());
      return 1;
    }
    out.flush();

    try (FerryClient client = new FerryClient(api, apiToken); WatchService watcher = FileSystems.getDefault().newWatchService()) {
      register(watcher, root);
      watchTree(watcher, root.resolve("src"));
      if (!deploy(client, root, service, out, err, System.nanoTime(), null)) return 1;
      Thread logs = new Thread(() -> streamLogs(client, service, out, err), "ferry-dev-logs");
      logs.setDaemon(true);
      logs.start();
      out.println("Watching " + root.relativize(root.resolve("src")) + "/ and pom.xml; Ctrl-C stops");
      out.flush();
      watchLoop(watcher, root, client, service, out, err, logs);
      return 0;
    } catch (Exception e) {
      err.println("ferry dev: " + (e.getMessage() != null ? e.getMessage() : e));
      return 1;
    } finally {
      out.flush();
      err.flush();
    }
  }

  private static boolean answers(String api) {
    try (FerryClient probe = new FerryClient(api, null)) {
      return probe.answers(1_000);
    }
  }

  /** Packs and uploads the tree; its outcome arrives on the log stream. False if it could not be sent. */
  private boolean deploy(FerryClient client, Path root, String service, PrintWriter out, PrintWriter err, long seenAt, String why) {
    Path archive = null;
    try {
      archive = Files.createTempFile("ferry-dev", ".tar.gz");
      Archives.pack(root, archive);
      JsonObject queued = client.upload(service, archive, Files.size(archive), n -> { });
      waiting.put(queued.getString("id"), seenAt);
      out.println(why == null ? "Deploying " + service + " (" + queued.getString("id") + ")"
          : why + ": redeploying (" + queued.getString("id") + ")");
      return true;
    } catch (Exception e) {
      err.println("ferry dev: could not deploy: " + (e instanceof java.net.ConnectException ? ClientCommand.unreachable(client.server(), e)
          : e.getMessage() != null ? e.getMessage() : e));
      return false;
    } finally {
      out.flush();
      err.flush();
      if (archive != null) {
        try {
          Files.deleteIfExists(archive);
        } catch (IOException ignored) {
          // a temp file
        }
      }
    }
  }

  /** The service's log across its deployments: its own output and what went wrong; the loop's outcomes. */
  private void streamLogs(FerryClient client, String service, PrintWriter out, PrintWriter err) {
    try {
      new LogFollower(client, out, err, false, false, LogFilter.ALL)
          .showing(l -> verbose || "service".equals(l.getString("stage")) || !"info".equals(l.getString("level", "info"))
              && !"debug".equals(l.getString("level")))
          .onState(d -> outcome(d, out))
          .follow("/api/v1/services/" + service + "/logs");
      err.println("ferry dev: " + service + " was deleted; stopping");
    } catch (Exception e) {
      err.println("ferry dev: lost the log of " + service + ": " + (e.getMessage() != null ? e.getMessage() : e));
    }
    err.flush();
  }

  private void outcome(JsonObject d, PrintWriter out) {
    String state = d.getString("state");
    // falling asleep is no outcome of a deploy
    if (!StateName.in(StateName.FINAL_FOR_BUILD, state) || StateName.SLEEPING.is(state)) return;
    Long seenAt = waiting.remove(d.getString("id"));
    if (seenAt == null) return;
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - seenAt);
    if (StateName.DEPLOYED.is(state)) {
      out.println("live in " + ms + " ms: " + d.getString("url") + " (" + d.getString("id") + ")");
    } else {
      String error = d.getString("error", "");
      out.println(d.getString("id") + " " + state + (d.containsKey("stage") ? " (" + d.getString("stage") + ")" : "")
          + (error.isEmpty() ? "" : ": " + error.lines().findFirst().orElse("")) + " after " + ms + " ms; fix and save to try again");
    }
    out.flush();
  }

  /** Waits for changes; once the tree is quiet for {@link #QUIET_MS}, deploys it. Ends when the log stream does. */
  private void watchLoop(WatchService watcher, Path root, FerryClient client, String service, PrintWriter out, PrintWriter err,
                         Thread logs) throws IOException, InterruptedException {
    while (logs.isAlive()) {
      WatchKey key;
      try {
        key = watcher.poll(500, TimeUnit.MILLISECONDS);
      } catch (ClosedWatchServiceException e) {
        return;
      }
      if (key == null) continue;
      long seenAt = System.nanoTime();
      Path changed = changes(watcher, root, key);
      if (changed == null) continue;
      // the rest of the save: more events until the tree is quiet
      for (WatchKey more; (more = watcher.poll(QUIET_MS, TimeUnit.MILLISECONDS)) != null; ) {
        Path also = changes(watcher, root, more);
        if (changed == null) changed = also;
      }
      deploy(client, root, service, out, err, seenAt, root.relativize(changed).toString());
    }
  }

  /** The first relevant path {@code key} reports (under src/, or pom.xml); registers new directories under src/. */
  private static Path changes(WatchService watcher, Path root, WatchKey key) throws IOException {
    Path base = (Path) key.watchable();
    Path relevant = null;
    for (WatchEvent<?> e : key.pollEvents()) {
      if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
        relevant = root.resolve("src");
        continue;
      }
      Path p = base.resolve((Path) e.context());
      boolean inSrc = p.startsWith(root.resolve("src"));
      if (inSrc && e.kind() == StandardWatchEventKinds.ENTRY_CREATE && Files.isDirectory(p)) watchTree(watcher, p);
      if (relevant == null && (inSrc || p.equals(root.resolve("pom.xml")))) relevant = p;
    }
    key.reset();
    return relevant;
  }

  /** Watches {@code dir} and every directory under it. */
  private static void watchTree(WatchService watcher, Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path d : s.filter(Files::isDirectory).toList()) register(watcher, d);
    }
  }

  private static void register(WatchService watcher, Path d) throws IOException {
    d.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
  }
}
