package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ferry delete NAME}: undeploys and deletes a service. */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Undeploy and delete a service.")
final class DeleteCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The service")
  String name;

  @Override
  int run(FerryClient client) {
    JsonObject r = client.delete("/api/v1/services/" + name);
    out().println(options.json ? r.encodePrettily() : "Deleted " + name);
    return 0;
  }
}
