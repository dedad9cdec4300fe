package dev.ferry.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code ferry logout}: forgets the stored token (the server stays the default). */
@Command(name = "logout", mixinStandardHelpOptions = true,
    description = "Forget the token ferry login stored (the server it named stays the default).")
final class LogoutCommand implements Callable<Integer> {

  @ParentCommand
  FerryCommand ferry;
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    UserConfig stored = UserConfig.read(ferry.env());
    if (stored.token() == null) {
      spec.commandLine().getOut().println("Not logged in");
      return 0;
    }
    new UserConfig(stored.server(), null).write(ferry.env());
    spec.commandLine().getOut().println("Logged out of " + stored.server());
    return 0;
  }
}
