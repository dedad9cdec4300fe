package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;

/** {@code ferry list}: every service, its state and URL. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List the services, their state and URL.")
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
    out().println(String.format("%-24s %-10s %-15s %s", "NAME", "STATE", "DEPLOYMENT", "URL"));
    for (Object o : all.getJsonArray("services")) {
      JsonObject s = (JsonObject) o;
      JsonObject latest = s.getJsonObject("latest", new JsonObject());
      JsonObject current = s.getJsonObject("current");
      out().println(String.format("%-24s %-10s %-15s %s", s.getString("name"), latest.getString("state", "-"),
          current != null ? current.getString("id") : latest.getString("id", "-"), s.getString("url") == null ? "-" : s.getString("url")));
    }
    return 0;
  }
}
