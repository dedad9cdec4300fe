package dev.ferry.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ferry deploy [DIR]}: packs, uploads, waits, prints the URL or the error. */
@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = "Pack DIR (skipping target/ and .git/), upload it, wait for the result and print the URL or the error.")
public final class DeployCommand implements Callable<Integer> {

  @Parameters(index = "0", defaultValue = ".", description = "The service's directory (default: .)")
  Path dir;
  @Option(names = "--name", description = "Service name (default: the directory's name)")
  String name;
  @Option(names = "--server", description = "Ferry API URL (FERRY_SERVER, default http://127.0.0.1:8000)")
  String server;

  @Override
  public Integer call() {
    String api = server != null ? server : System.getenv().getOrDefault("FERRY_SERVER", "http://127.0.0.1:8000");
    return new Deployer(api, System.out, System.err).deploy(dir, name);
  }
}
