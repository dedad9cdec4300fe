package dev.ferry.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry server}'s arguments, read without picocli's model, as picocli reads them. */
class ServerArgsTest {

  @Test
  void the_servers_options_read_without_picocli_are_what_picocli_reads() {
    for (List<String> args : List.<List<String>>of(List.of(),
        List.of("--host", "127.0.0.1", "--api-port", "18080", "--proxy-port=18081", "--data-dir", "/tmp/d", "--config", "/tmp/f.json"),
        List.of("--domain=example.test", "--deploy", "examples/hello", "--api-port=0"))) {
      String[] a = args.toArray(String[]::new);
      ServerCommand fast = ServerCommand.parse(a).orElseThrow(() -> new AssertionError("not read: " + args));
      ServerCommand picocli = new ServerCommand();
      new CommandLine(picocli).parseArgs(a);
      assertEquals(describe(picocli), describe(fast), String.join(" ", args));
    }
  }

  @Test
  void every_option_of_the_command_is_read_without_picocli() {
    for (CommandLine.Model.OptionSpec option : new CommandLine(new ServerCommand()).getCommandSpec().options()) {
      if (option.usageHelp() || option.versionHelp()) continue;
      for (String name : option.names()) {
        String value = option.type() == Integer.class ? "1" : "x";
        assertTrue(ServerCommand.parse(name, value).isPresent(), name + " is not read without picocli");
      }
    }
  }

  @Test
  void anything_else_is_left_to_picocli_which_explains_it() {
    for (List<String> args : List.<List<String>>of(List.of("--help"), List.of("-h"), List.of("--version"), List.of("--api-prot", "1"),
        List.of("--api-port", "eighty"), List.of("--api-port"), List.of("--data-dir", "--api-port", "1"), List.of("examples/hello"))) {
      assertTrue(ServerCommand.parse(args.toArray(String[]::new)).isEmpty(), String.join(" ", args));
    }
  }

  private static List<Object> describe(ServerCommand c) {
    ServerCommand.PlatformOptions o = c.platformOptions;
    return java.util.Arrays.asList(o.configFile, o.host, o.apiPort, o.proxyPort, o.dataDir, o.domain, c.deploy == null ? null : Path.of(c.deploy.toString()));
  }
}
