package dev.ferry.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code ferry completion}: prints the bash/zsh completion script. */
@Command(name = "completion", mixinStandardHelpOptions = true,
    description = "Print the bash (and zsh) completion script: source <(ferry completion)")
final class CompletionCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().getOut().print(AutoComplete.bash("ferry", spec.commandLine().getParent()));
    spec.commandLine().getOut().flush();
  }
}
