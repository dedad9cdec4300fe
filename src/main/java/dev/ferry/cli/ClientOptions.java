package dev.ferry.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
  @Option(names = "--token", paramLabel = "TOKEN", description = "API token (FERRY_TOKEN, else ~/.config/ferry/token, else a local server's data/token)")
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
   * {@code $FERRY_CONFIG_DIR/token} (default {@code ~/.config/ferry/token}), else that of the token
   * a local server generated, {@code $FERRY_DATA_DIR/token} (default {@code data/token}); null if none.
   */
  static String tokenOf(Map<String, String> env) {
    String t = env.get("FERRY_TOKEN");
    if (t != null && !t.isBlank()) return t.trim();
    for (Path file : tokenFiles(env)) {
      try {
        if (Files.isRegularFile(file)) {
          String first = Files.readString(file).lines().findFirst().map(String::trim).orElse("");
          if (!first.isEmpty()) return first;
        }
      } catch (IOException unreadable) {
        // another user's server: try the next place
      }
    }
    return null;
  }

  /** Where {@link #tokenOf} looks, in order; named in the message a 401 prints. */
  static List<Path> tokenFiles(Map<String, String> env) {
    Path config = env.containsKey("FERRY_CONFIG_DIR") ? Path.of(env.get("FERRY_CONFIG_DIR"))
        : Path.of(System.getProperty("user.home"), ".config", "ferry");
    return List.of(config.resolve("token"), Path.of(env.getOrDefault("FERRY_DATA_DIR", "data")).resolve("token"));
  }
}
