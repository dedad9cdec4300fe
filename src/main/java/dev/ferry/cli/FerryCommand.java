package dev.ferry.cli;

import picocli.CommandLine.Command;

/** The {@code ferry} command: the user's front door. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
    description = "Ferry: upload a Java service's source, get it built, deployed and routed.",
    subcommands = {ServerCommand.class, DeployCommand.class, RollbackCommand.class})
public final class FerryCommand implements Runnable {

  /** An exit code that means: the command started something that keeps running (the server). */
  public static final int KEEP_RUNNING = -1;

  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }
}
