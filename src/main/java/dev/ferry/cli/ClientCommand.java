package dev.ferry.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.Callable;

/** What every command that talks to a server shares: options, output, and a client it closes. */
abstract class ClientCommand implements Callable<Integer> {

  @Mixin
  ClientOptions options;
  @ParentCommand
  FerryCommand ferry;
  @Spec
  CommandSpec spec;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** The token this command sends (login overrides it: it checks a token it is given). */
  String token() {
    return options.token(ferry.env());
  }

  @Override
  public final Integer call() {
    String server = null;
    try {
      server = options.server(ferry.env());
      try (FerryClient client = new FerryClient(server, token())) {
        return run(client);
      }
    } catch (FerryClient.ApiException | IllegalArgumentException | IllegalStateException e) {
      err().println("ferry " + spec.name() + ": " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    } catch (Exception e) {
      // connection refused, unknown host and the like (Vert.x rethrows them unchecked or not)
      err().println("ferry " + spec.name() + ": " + unreachable(server, e));
      return 1;
    } finally {
      out().flush();
      err().flush();
    }
  }

  static String unreachable(String server, Throwable e) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName()
        // Netty adds the address the user already knows: "Connection refused: /127.0.0.1:1"
        : e instanceof ConnectException ? e.getMessage().replaceFirst(": /.*$", "")
        : e instanceof UnknownHostException ? "unknown host (" + e.getMessage() + ")"
        : e.getMessage();
    return "cannot reach " + server + ": " + why;
  }

  abstract int run(FerryClient client) throws Exception;
}
