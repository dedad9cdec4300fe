package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry rollback NAME [--to ID]}: serves an earlier deployment again, without a rebuild. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Serve NAME's previous deployment again (or --to ID), from its stored artifact, without a rebuild.")
final class RollbackCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The service")
  String name;
  @Option(names = "--to", paramLabel = "ID", description = "The deployment to go back to (default: the previous one)")
  String to;

  @Override
  int run(FerryClient client) {
    JsonObject body = to == null ? new JsonObject() : new JsonObject().put("deployment", to);
    JsonObject d = client.post("/api/v1/services/" + name + "/rollback", body);
    out().println(options.json ? d.encodePrettily()
        : "Rolling " + name + " back to deployment " + d.getString("id") + " (" + d.getString("state") + ")");
    return 0;
  }
}
