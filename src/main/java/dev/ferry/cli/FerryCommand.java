package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Map;

/** The {@code ferry} command: the user's front door. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
    description = "Ferry: upload a Java service's source, get it built, deployed and routed.",
    subcommands = {ServerCommand.class, InitCommand.class, DeployCommand.class, ListCommand.class, StatusCommand.class,
        LogsCommand.class, DeleteCommand.class, RollbackCommand.class, CompletionCommand.class,
        SecretsCommand.class, ResourcesCommand.class, SdkCommand.class})
public final class FerryCommand implements Runnable {

  /** An exit code that means: the command started something that keeps running (the server). */
  public static final int KEEP_RUNNING = -1;

  private final Map<String, String> env;

  public FerryCommand() {
    this(System.getenv());
  }

  /** {@code env} stands for the environment (FERRY_SERVER, FERRY_TOKEN, FERRY_CONFIG_DIR). */
  public FerryCommand(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** A command line for {@code ferry}; further subcommands may be added to it. */
  public static CommandLine commandLine(Map<String, String> env) {
    return new CommandLine(new FerryCommand(env)).setCaseInsensitiveEnumValuesAllowed(true);
  }

  Map<String, String> env() {
    return env;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
