package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry rollback NAME [--to ID]}: serves an earlier deployment's artifact again, without a
 * rebuild, as a new deployment, and waits until that one answers.
 */
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
    String back = d.getString("source", d.getString("id"));
    if (!options.json) out().println("Rolling " + name + " back to deployment " + back + " (as deployment " + d.getString("id") + ")");
    // the rollback is a deployment of its own: its whole log is this rollback's
    return new Deployer(client, out(), err(), false, options.json)
        .awaitLive(d.getString("id"), name, "Rolled back " + name + " to " + back);
  }
}
