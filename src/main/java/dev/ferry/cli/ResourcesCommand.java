package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry resources NAME}: the databases the platform keeps for a service, and its secrets' names. */
@Command(name = "resources", mixinStandardHelpOptions = true,
    description = "Show a service's databases (what its code declares with @Postgres) and the names of its secrets.")
final class ResourcesCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The service")
  String name;
  @Option(names = "--reveal", description = "Show the databases' passwords (and URIs with them)")
  boolean reveal;

  @Override
  int run(FerryClient client) {
    JsonObject r = client.get("/api/v1/services/" + name + "/resources" + (reveal ? "?reveal=true" : ""));
    if (options.json) {
      out().println(r.encodePrettily());
      return 0;
    }
    if (r.getJsonArray("databases").isEmpty()) {
      out().println("Databases  none");
    } else {
      out().println("Databases");
      r.getJsonArray("databases").stream().map(JsonObject.class::cast).forEach(d -> {
        out().println("  " + d.getString("name") + (d.getBoolean("current", true) ? "" : "  (on " + d.getString("server") + ", no longer used)"));
        out().println("    database  " + d.getString("database") + "   user " + d.getString("user"));
        if (d.containsKey("host")) out().println("    server    " + d.getString("server"));
        if (d.containsKey("uri")) out().println("    uri       " + d.getString("uri"));
        if (d.containsKey("password")) out().println("    password  " + d.getString("password"));
      });
    }
    out().println(r.getJsonArray("secrets").isEmpty() ? "Secrets    none"
        : "Secrets    " + String.join(", ", r.getJsonArray("secrets").stream().map(s -> ((JsonObject) s).getString("name")).toList()));
    return 0;
  }
}
