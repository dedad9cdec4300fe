package dev.ferry.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
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

  @Override
  public final Integer call() {
    try (FerryClient client = new FerryClient(options.server(ferry.env()), options.token(ferry.env()))) {
      return run(client);
    } catch (FerryClient.ApiException | IllegalArgumentException | IllegalStateException e) {
      err().println("ferry " + spec.name() + ": " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    } catch (RuntimeException e) {
      // connection refused and the like
      err().println("ferry " + spec.name() + ": cannot reach " + options.server(ferry.env()) + ": " + e.getMessage());
      return 1;
    } finally {
      out().flush();
      err().flush();
    }
  }

  abstract int run(FerryClient client) throws InterruptedException;
}
