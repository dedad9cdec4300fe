package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code ferry token rotate}: replaces the server's API token with a new one; the old one is
 * refused at once. The new token is printed, and stored in place of the old one when this client
 * took the old one from what {@code ferry login} stored; a server's own {@code data/token} is
 * rewritten by the server.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = {"Rotate the server's API token: a new one replaces it, the old one is refused at once.",
        "  ferry token rotate",
        "The new token is printed, and stored (as ferry login would) when this client read the old one from there.",
        "A token set with FERRY_TOKEN or the server config's token cannot be rotated: change it there."})
final class TokenCommand extends ClientCommand {

  enum Action { rotate }

  @Parameters(index = "0", paramLabel = "ACTION", description = "rotate")
  Action action;

  @Override
  int run(FerryClient client) {
    boolean fromLogin = usesStoredToken(client.server());
    JsonObject r = client.post("/api/v1/token/rotate", new JsonObject());
    String token = r.getString("token");
    Path saved = fromLogin ? save(client.server(), token) : null;
    if (options.json) {
      out().println(r.copy().put("savedTo", saved == null ? null : saved.toString()).encodePrettily());
    } else {
      out().println("New API token: " + token);
      out().println("The old token is refused from now on. The server keeps the new one in " + r.getString("file") + ".");
      if (saved != null) out().println("Saved to " + saved + " for this client.");
      else out().println("Give it to this server's clients: ferry login, FERRY_TOKEN or --token.");
    }
    return 0;
  }

  /** Whether the token sent was the one {@code ferry login} stored for this server (not --token, not FERRY_TOKEN). */
  private boolean usesStoredToken(String server) {
    if (options.token != null || ferry.env().get("FERRY_TOKEN") != null) return false;
    UserConfig stored = UserConfig.read(ferry.env());
    return stored.token() != null && stored.server() != null && ClientOptions.normalize(stored.server()).equals(server);
  }

  private Path save(String server, String token) {
    try {
      new UserConfig(server, token).write(ferry.env());
      return UserConfig.file(ferry.env());
    } catch (IOException e) {
      err().println("ferry token: could not store the new token in " + UserConfig.file(ferry.env()) + ": " + e.getMessage());
      return null;
    }
  }
}
