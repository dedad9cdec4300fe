package dev.ferry.runner;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A runner process: {@code java -cp <runner classpath> dev.ferry.runner.RunnerMain --id ID --socket PATH
 * --orphan-grace-ms N --mode process|shared --event-loops N}, its secret on the first line of stdin.
 * It serves its control plane over the socket (see {@link Agent}) and runs the services it is given,
 * each on a Vert.x of its own. {@code --train} only warms up and exits: run with
 * {@code -XX:ArchiveClassesAtExit}, it makes the runners' class-data-sharing archive.
 */
public final class RunnerMain {

  private RunnerMain() {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--train")) opts.put("train", "true");
      else if (args[i].startsWith("--") && i + 1 < args.length) opts.put(args[i].substring(2), args[++i]);
    }
    if (opts.containsKey("train")) {
      Warmup.run(60_000);
      System.exit(0);
    }
    String secret = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    if (secret == null || secret.isBlank() || !opts.containsKey("id") || !opts.containsKey("socket")) {
      // only the platform starts a runner: this is its mistake, and the runner's last words say so
      throw new IllegalArgumentException("usage: RunnerMain --id ID --socket PATH [--orphan-grace-ms N] [--mode process|shared] "
          + "[--event-loops N], the secret on stdin");
    }
    System.in.close();
    new Agent(opts.get("id"), Path.of(opts.get("socket")), secret.trim(),
        Long.parseLong(opts.getOrDefault("orphan-grace-ms", "60000")), "shared".equals(opts.get("mode")),
        Integer.parseInt(opts.getOrDefault("event-loops", "2"))).serve();
  }
}
