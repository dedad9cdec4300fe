package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;

/** {@code ferry rollback NAME [--to ID]}: serves an earlier deployment again, without a rebuild, and waits until it answers. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Serve NAME's previous deployment again (or --to ID), from its stored artifact, without a rebuild; "
        + "waits until it answers and prints its URL.")
final class RollbackCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The service")
  String name;
  @Option(names = "--to", paramLabel = "ID", description = "The deployment to go back to (default: the previous one)")
  String to;

  @Override
  int run(FerryClient client) throws InterruptedException {
    JsonObject body = to == null ? new JsonObject() : new JsonObject().put("deployment", to);
    JsonObject d = client.post("/api/v1/services/" + name + "/rollback", body);
    if (!options.json) out().println("Rolling " + name + " back to deployment " + d.getString("id"));
    // its log from the reactivation on: the lines of its first build are history
    String reactivated = d.getJsonObject("timeline", new JsonObject()).getString("reactivated");
    return new Deployer(client, out(), err(), false, options.json)
        .awaitLive(d.getString("id"), name, reactivated == null ? null : Instant.parse(reactivated), "Rolled back " + name + " to " + d.getString("id"));
  }
}
