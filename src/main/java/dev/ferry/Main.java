package dev.ferry;

import dev.ferry.cli.FerryCommand;

/** {@code java -jar ferry.jar <command>}: see {@link FerryCommand}. */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    int code = FerryCommand.main(args);
    if (code != FerryCommand.KEEP_RUNNING) System.exit(code);
  }
}
