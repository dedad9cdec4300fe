package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

/** {@code ferry list}: every service, what serves it, what failed since, and its URL. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = "List the services: the deployment serving each (and the latest, when it differs), and the URL.")
final class ListCommand extends ClientCommand {

  @Override
  int run(FerryClient client) {
    JsonObject all = client.get("/api/v1/services");
    if (options.json) {
      out().println(all.encodePrettily());
      return 0;
    }
    if (all.getJsonArray("services").isEmpty()) {
      out().println("No services yet: ferry deploy DIR");
      return 0;
    }
    out().println(String.format("%-24s %-15s %-40s %s", "NAME", "DEPLOYMENT", "STATE", "URL"));
    for (Object o : all.getJsonArray("services")) {
      JsonObject s = (JsonObject) o;
      JsonObject current = s.getJsonObject("current");
      JsonObject shown = current != null ? current : s.getJsonObject("latest", new JsonObject());
      out().println(String.format("%-24s %-15s %-40s %s", s.getString("name"), shown.getString("id", "-"), state(s),
          s.getString("url") == null ? "-" : s.getString("url")));
    }
    return 0;
  }

  /**
   * What serves and what failed, apart: {@code deployed}, or {@code deployed (latest: error 0mx…)}
   * when a later deployment failed (or is still on its way) while the earlier one serves.
   */
  static String state(JsonObject service) {
    JsonObject current = service.getJsonObject("current");
    JsonObject latest = service.getJsonObject("latest");
    if (current == null) return latest == null ? "-" : latest.getString("state");
    if (latest == null || latest.getString("id").equals(current.getString("id"))) return current.getString("state");
    return current.getString("state") + " (latest: " + latest.getString("state") + " " + latest.getString("id") + ")";
  }
}
