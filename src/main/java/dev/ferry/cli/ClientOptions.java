package dev.ferry.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The options every client command shares: which server, which token, and {@code --json}. The
 * server comes from {@code --server}, else {@code FERRY_SERVER}, else the one {@code ferry login}
 * stored, else {@code http://127.0.0.1:8000}; the token from {@code --token}, else {@code FERRY_TOKEN},
 * else the stored one (for the stored server only), else a local server's {@code data/token}.
 */
public final class ClientOptions {

  public static final String DEFAULT_SERVER = "http://127.0.0.1:8000";
  private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "::1", "[::1]");

  @Option(names = "--server", paramLabel = "URL", description = "Ferry API URL (FERRY_SERVER, else the one of ferry login, else " + DEFAULT_SERVER + ")")
  String server;
  @Option(names = "--token", paramLabel = "TOKEN", description = "API token (FERRY_TOKEN, else the one of ferry login, else a local server's data/token)")
  String token;
  @Option(names = "--json", description = "Print JSON for scripts instead of text")
  boolean json;

  String server(Map<String, String> env) {
    String s = server != null ? server : env.get("FERRY_SERVER");
    if (s == null || s.isBlank()) s = UserConfig.read(env).server();
    return normalize(s == null ? DEFAULT_SERVER : s);
  }

  String token(Map<String, String> env) {
    return token != null ? token : tokenOf(env, server(env));
  }

  static String normalize(String server) {
    String s = server.trim();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * The token a client sends to {@code server} when none is given: {@code FERRY_TOKEN}, else the one
   * {@code ferry login} stored if it was for this server, else, for a server on this machine, the
   * first line of the token it generated, {@code $FERRY_DATA_DIR/token} (default {@code data/token});
   * null if none.
   */
  static String tokenOf(Map<String, String> env, String server) {
    String t = env.get("FERRY_TOKEN");
    if (t != null && !t.isBlank()) return t.trim();
    UserConfig stored = UserConfig.read(env);
    if (stored.token() != null && stored.server() != null && normalize(stored.server()).equals(server)) return stored.token();
    if (!LOOPBACK.contains(hostOf(server))) return null;
    Path file = Path.of(env.getOrDefault("FERRY_DATA_DIR", "data")).resolve("token");
    try {
      if (Files.isRegularFile(file)) {
        String first = Files.readString(file).lines().findFirst().map(String::trim).orElse("");
        if (!first.isEmpty()) return first;
      }
    } catch (IOException unreadable) {
      // another user's server
    }
    return null;
  }

  private static String hostOf(String server) {
    try {
      String h = URI.create(server).getHost();
      return h == null ? "" : h;
    } catch (IllegalArgumentException e) {
      return "";
    }
  }
}
