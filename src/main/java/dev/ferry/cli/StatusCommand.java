package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ferry status NAME}: a service, what serves it, its latest deployment and its history. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show a service: its URL, the deployment serving it, the latest one when it differs, and its history.")
final class StatusCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The service")
  String name;

  @Override
  int run(FerryClient client) {
    JsonObject service = client.get("/api/v1/services/" + name);
    JsonObject history = client.get("/api/v1/services/" + name + "/deployments");
    if (options.json) {
      out().println(service.copy().put("deployments", history.getJsonArray("deployments")).encodePrettily());
      return 0;
    }
    JsonObject current = service.getJsonObject("current");
    JsonObject latest = service.getJsonObject("latest");
    out().println("Service  " + name);
    out().println("URL      " + (service.getString("url") == null ? "- (not deployed)" : service.getString("url")));
    out().println("State    " + ListCommand.state(service));
    out().println("Serving  " + (current == null ? "-" : current.getString("id") + " since " + current.getString("updatedAt")));
    if (latest != null && (current == null || !latest.getString("id").equals(current.getString("id")))) {
      out().println("Latest   " + latest.getString("id") + " " + latest.getString("state")
          + (latest.containsKey("error") ? " (" + latest.getString("stage") + "): " + latest.getString("error").lines().findFirst().orElse("") : ""));
    }
    out().println("History");
    history.getJsonArray("deployments").stream().limit(10).map(JsonObject.class::cast).forEach(d ->
        out().println(String.format("  %-15s %-9s %s%s", d.getString("id"), d.getString("state"), d.getString("createdAt"),
            d.containsKey("error") ? "  " + d.getString("error").lines().findFirst().orElse("") : "")));
    return 0;
  }
}
