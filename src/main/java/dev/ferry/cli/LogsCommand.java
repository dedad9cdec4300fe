package dev.ferry.cli;

import dev.ferry.deployment.StateName;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;

/** {@code ferry logs ID|NAME [-f] [--current] [--since D] [--grep RE]}: a deployment's log, or a service's. */
@Command(name = "logs", mixinStandardHelpOptions = true,
    description = {"Print a deployment's log (build and service output).",
        "NAME: the service's latest deployment, failed or not (--current: the one serving); with -f, the service "
            + "across redeploys and rollbacks, each line after the deployment it is from."})
final class LogsCommand extends ClientCommand {


  @Parameters(index = "0", paramLabel = "ID|NAME", description = "A deployment id or a service name")
  String target;
  @Option(names = {"-f", "--follow"}, description = "Keep printing new lines: a deployment's until it stops, a service's until it is deleted")
  boolean follow;
  @Option(names = "--current", description = "NAME: the deployment serving it, not the latest")
  boolean current;
  @Option(names = "--since", paramLabel = "WHEN", description = "Only lines from WHEN on: a duration back (90s, 10m, 2h, 1d) or an instant (2026-01-01T12:00:00Z)")
  String since;
  @Option(names = "--grep", paramLabel = "REGEX", description = "Only lines that match REGEX (anywhere in the printed line)")
  String grep;

  @Override
  int run(FerryClient client) throws InterruptedException {
    LogFilter filter = LogFilter.of(since, grep, Instant.now());
    JsonObject deployment = client.getOrNull("/api/v1/deployments/" + target);
    if (deployment != null && current) throw new IllegalArgumentException("--current goes with a service's name, not a deployment id");
    JsonObject service = deployment == null ? client.getOrNull("/api/v1/services/" + target) : null;
    if (deployment == null && service == null) throw new IllegalArgumentException("No deployment or service named " + target);

    if (follow && service != null) {
      JsonObject end = new LogFollower(client, out(), err(), options.json, true, filter)
          .onState(d -> {
            // where each deployment's way ends (falling asleep is no end)
            if (StateName.in(StateName.FINAL_FOR_BUILD, d.getString("state")) && !StateName.SLEEPING.is(d.getString("state"))) {
              err().println("(" + d.getString("id") + " of " + target + ": " + d.getString("state")
                  + (d.containsKey("url") ? ": " + d.getString("url") : "")
                  + (d.containsKey("error") ? " (" + d.getString("stage") + "): " + d.getString("error").lines().findFirst().orElse("") : "")
                  + ")");
              err().flush();
            }
          })
          .follow("/api/v1/services/" + target + "/logs" + (current ? "?from=current" : ""));
      err().println("(service " + target + " is " + end.getString("state") + ")");
      return 0;
    }
    if (service != null) {
      deployment = current ? service.getJsonObject("current") : service.getJsonObject("latest");
      if (deployment == null) throw new IllegalArgumentException(target + " has no deployment serving it: ferry logs " + target + " shows its latest");
    }
    String id = deployment.getString("id");
    if (follow) {
      JsonObject end = new LogFollower(client, out(), err(), options.json, false, filter).follow("/api/v1/deployments/" + id + "/logs?follow=true");
      err().println("(deployment " + id + " is " + end.getString("state") + ")");
      return 0;
    }
    if (!options.json) {
      err().println("Deployment " + id + " of " + deployment.getString("service") + ": " + deployment.getString("state")
          + (deployment.containsKey("stage") ? " (" + deployment.getString("stage") + ")" : ""));
    }
    client.text("/api/v1/deployments/" + id + "/logs").lines().map(JsonObject::new).forEach(l -> {
      String text = LogFilter.format(l, false);
      if (filter.accepts(l, text)) out().println(options.json ? l.encode() : text);
    });
    return 0;
  }
}
