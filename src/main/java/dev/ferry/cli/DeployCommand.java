package dev.ferry.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

/** {@code ferry deploy [DIR]}: packs, uploads, follows the build, prints the URL or the error. */
@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = "Pack DIR (honoring .gitignore and .ferryignore), upload it, follow the build log and print the URL or the error.")
final class DeployCommand extends ClientCommand {

  enum ProgressStyle { auto, bar, plain }

  @Parameters(index = "0", defaultValue = ".", description = "The service's directory (default: .)")
  Path dir;
  @Option(names = "--name", description = "Service name (default: the directory's name)")
  String name;
  @Option(names = "--progress", defaultValue = "auto", description = "Upload progress: ${COMPLETION-CANDIDATES} (auto: a bar on a terminal)")
  ProgressStyle progress;

  @Override
  int run(FerryClient client) {
    boolean bar = progress == ProgressStyle.bar || progress == ProgressStyle.auto && System.console() != null;
    return new Deployer(client, out(), err(), bar, options.json).deploy(dir, name);
  }
}
