package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.Console;
import java.util.Locale;

/** {@code ferry delete NAME}: undeploys and deletes a service, once confirmed. */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Undeploy and delete a service. Asks first on a terminal; elsewhere needs --yes.")
final class DeleteCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "The service")
  String name;
  @Option(names = {"-y", "--yes"}, description = "Delete without asking")
  boolean yes;

  @Override
  int run(FerryClient client) {
    if (!yes) {
      Console console = System.console();
      if (console == null) {
        err().println("ferry delete: not on a terminal, so nothing asked and nothing deleted: pass --yes to delete " + name);
        return 1;
      }
      // the service must exist before anyone is asked about it
      client.get("/api/v1/services/" + name);
      String answer = console.readLine("Delete service %s? It stops serving and its URL answers 404 (its history stays). [y/N] ", name);
      if (answer == null || !answer.trim().toLowerCase(Locale.ROOT).matches("y|yes")) {
        out().println("Kept " + name);
        return 1;
      }
    }
    JsonObject r = client.delete("/api/v1/services/" + name);
    out().println(options.json ? r.encodePrettily() : "Deleted " + name);
    return 0;
  }
}
