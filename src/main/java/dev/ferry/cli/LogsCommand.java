package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry logs ID|NAME [--follow]}: a deployment's log; a service's current (else latest) deployment. */
@Command(name = "logs", mixinStandardHelpOptions = true,
    description = "Print a deployment's log (build and service output). NAME means the service's current deployment, else its latest.")
final class LogsCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "ID|NAME", description = "A deployment id or a service name")
  String target;
  @Option(names = {"-f", "--follow"}, description = "Keep printing new lines until the deployment stops")
  boolean follow;

  @Override
  int run(FerryClient client) throws InterruptedException {
    String id = resolve(client);
    if (!follow) {
      String ndjson = client.text("/api/v1/deployments/" + id + "/logs");
      if (options.json) {
        out().print(ndjson);
      } else {
        ndjson.lines().map(JsonObject::new).forEach(l -> out().println(String.format("%s %-8s %s",
            l.getString("ts"), "[" + l.getString("stage") + "]", l.getString("message"))));
      }
      return 0;
    }
    JsonObject end = new LogFollower(client, out(), err(), options.json).follow(id, true);
    err().println("(deployment " + id + " is " + end.getString("state") + ")");
    return 0;
  }

  private String resolve(FerryClient client) {
    if (client.getOrNull("/api/v1/deployments/" + target) != null) return target;
    JsonObject service = client.getOrNull("/api/v1/services/" + target);
    if (service == null) throw new IllegalArgumentException("No deployment or service named " + target);
    JsonObject d = service.getJsonObject("current") != null ? service.getJsonObject("current") : service.getJsonObject("latest");
    return d.getString("id");
  }
}
