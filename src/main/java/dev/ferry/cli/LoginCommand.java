package dev.ferry.cli;

import picocli.CommandLine.Command;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * {@code ferry login [--server URL] [--token T]}: checks the token against the server and stores
 * both in the user's config, so every later command finds them from any directory.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
    description = {"Check a token against the server and remember both (in $XDG_CONFIG_HOME/ferry/config.json, "
        + "owner-only), so every command works from any directory.",
        "The token: --token, else FERRY_TOKEN, else asked for on a terminal, else the first line of standard input."})
final class LoginCommand extends ClientCommand {

  private String token;

  @Override
  String token() {
    if (token != null) return token;
    token = options.token != null ? options.token : ferry.env().get("FERRY_TOKEN");
    if (token == null || token.isBlank()) token = readToken(options.server(ferry.env()));
    if (token == null || token.isBlank()) throw new IllegalArgumentException("no token given: pass --token, or pipe it in");
    token = token.trim();
    return token;
  }

  private static String readToken(String server) {
    Console console = System.console();
    if (console != null) {
      char[] typed = console.readPassword("Token for %s (the server's <data dir>/token): ", server);
      return typed == null ? null : new String(typed);
    }
    try {
      return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  int run(FerryClient client) throws IOException {
    try {
      // any authenticated call: a wrong token is refused here, and nothing is stored
      client.get("/api/v1/info");
    } catch (FerryClient.ApiException e) {
      if (e.status == 401) {
        err().println("ferry login: " + client.server() + " refused the token (HTTP 401); nothing was stored");
        return 1;
      }
      throw e;
    }
    new UserConfig(client.server(), token()).write(ferry.env());
    out().println("Logged in to " + client.server() + " (saved in " + UserConfig.file(ferry.env()) + ")");
    return 0;
  }
}
