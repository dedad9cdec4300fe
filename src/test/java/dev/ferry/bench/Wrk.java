package dev.ferry.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code wrk -t1 -cC -dDs --latency} against a port, with the {@code Host} of one service or, each
 * request to the next of several services, from a Lua script that builds every request up front (so
 * the load generator costs the same per request either way: the one-service case runs the same
 * script with one host).
 */
final class Wrk {

  private final Path script;
  private final int connections;
  private final int seconds;

  Wrk(Path dir, int connections, int seconds) throws IOException {
    this.connections = connections;
    this.seconds = seconds;
    this.script = dir.resolve("hosts.lua");
    Files.writeString(script, """
        local hosts = {}
        for h in string.gmatch(os.getenv("WRK_HOSTS") or "", "[^,]+") do hosts[#hosts + 1] = h end
        local reqs = {}
        local i = 0
        init = function(args)
          for k = 1, #hosts do reqs[k] = wrk.format("GET", "/", {["Host"] = hosts[k]}) end
        end
        request = function()
          i = i % #reqs + 1
          return reqs[i]
        end
        """);
  }

  static boolean available() {
    try {
      return new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** The command line, for the report. */
  String describe() {
    return "wrk -t1 -c" + connections + " -d" + seconds + "s --latency -s hosts.lua";
  }

  /** Load on 127.0.0.1:{@code port}, each request to the next of {@code services} (as {@code <service>.localhost}). */
  LoadResult run(int port, List<String> services) throws IOException, InterruptedException {
    return run(port, services, seconds);
  }

  /** The same, for {@code seconds} instead of the configured duration. */
  LoadResult run(int port, List<String> services, int seconds) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--latency", "-s", script.toString(),
        "http://127.0.0.1:" + port + "/"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("WRK_HOSTS", String.join(",", services.stream().map(s -> s + ".localhost").toList()));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS)) p.destroyForcibly();
    return LoadResult.parseWrk(out);
  }
}
