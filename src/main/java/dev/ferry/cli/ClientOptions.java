package dev.ferry.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The options every client command shares: which server, which token, and {@code --json}. The
 * server comes from {@code --server}, else {@code FERRY_SERVER}, else {@code http://127.0.0.1:8000};
 * the token from {@code --token}, else {@link #tokenOf(Map)}.
 */
public final class ClientOptions {

  public static final String DEFAULT_SERVER = "http://127.0.0.1:8000";

  @Option(names = "--server", paramLabel = "URL", description = "Ferry API URL (FERRY_SERVER, default " + DEFAULT_SERVER + ")")
  String server;
  @Option(names = "--token", paramLabel = "TOKEN", description = "API token (FERRY_TOKEN, or the file ~/.config/ferry/token)")
  String token;
  @Option(names = "--json", description = "Print JSON for scripts instead of text")
  boolean json;

  String server(Map<String, String> env) {
    String s = server != null ? server : env.getOrDefault("FERRY_SERVER", DEFAULT_SERVER);
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  String token(Map<String, String> env) {
    return token != null ? token : tokenOf(env);
  }

  /**
   * The token a client sends when none is given: {@code FERRY_TOKEN}, else the first line of
   * {@code $FERRY_CONFIG_DIR/token} (default {@code ~/.config/ferry/token}); null if neither.
   */
  static String tokenOf(Map<String, String> env) {
    String t = env.get("FERRY_TOKEN");
    if (t != null && !t.isBlank()) return t.trim();
    Path dir = env.containsKey("FERRY_CONFIG_DIR") ? Path.of(env.get("FERRY_CONFIG_DIR"))
        : Path.of(System.getProperty("user.home"), ".config", "ferry");
    Path file = dir.resolve("token");
    try {
      return Files.isRegularFile(file) ? Files.readString(file).lines().findFirst().map(String::trim).orElse(null) : null;
    } catch (IOException e) {
      return null;
    }
  }
}
