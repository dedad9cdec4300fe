package dev.ferry.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code ferry rollback NAME [--to ID]}: serves an earlier deployment again, without a rebuild. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Serve NAME's previous deployment again (or --to ID), from its stored artifact, without a rebuild.")
public final class RollbackCommand implements Callable<Integer> {

  @Parameters(index = "0", description = "The service")
  String name;
  @Option(names = "--to", paramLabel = "ID", description = "The deployment to go back to (default: the previous one)")
  String to;
  @Option(names = "--server", description = "Ferry API URL (FERRY_SERVER, default http://127.0.0.1:8000)")
  String server;

  @Override
  public Integer call() {
    try (ApiClient api = new ApiClient(ApiClient.server(server))) {
      JsonObject d = api.rollback(name, to).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      System.out.println("Rolling " + name + " back to deployment " + d.getString("id") + " (" + d.getString("state") + ")");
      return 0;
    } catch (Exception e) {
      Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      System.err.println("ferry rollback: " + c.getMessage());
      return 1;
    }
  }
}
