package dev.ferry.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ferry secrets set|list|unset NAME ...}: a service's secrets. Values are sent, never printed;
 * a change restarts the service with the new values.
 */
@Command(name = "secrets", mixinStandardHelpOptions = true,
    description = {"Set, list or unset a service's secrets (what its code declares with @Secret).",
        "  ferry secrets set NAME KEY=VALUE...   (KEY alone: the value is read from stdin)",
        "  ferry secrets set NAME --env-file .env   (- reads the file from stdin)",
        "  ferry secrets list NAME",
        "  ferry secrets unset NAME KEY...",
        "Setting or unsetting restarts the service's current deployment with the new values (no rebuild)."})
final class SecretsCommand extends ClientCommand {

  enum Action { set, list, unset }

  @Parameters(index = "0", paramLabel = "ACTION", description = "set, list or unset")
  Action action;
  @Parameters(index = "1", paramLabel = "NAME", description = "The service")
  String name;
  @Parameters(index = "2..*", paramLabel = "KEY[=VALUE]", description = "set: KEY=VALUE (or KEY, value from stdin); unset: KEY")
  List<String> args = new ArrayList<>();
  @Option(names = "--env-file", paramLabel = "FILE", description = "set: read KEY=VALUE lines from FILE (.env format; - for stdin)")
  String envFile;

  /** Where a value given as KEY alone comes from. */
  InputStream stdin = System.in;

  @Override
  int run(FerryClient client) {
    String path = "/api/v1/services/" + name + "/secrets";
    switch (action) {
      case list -> {
        JsonObject r = client.get(path);
        if (options.json) {
          out().println(r.encodePrettily());
        } else if (r.getJsonArray("secrets").isEmpty()) {
          out().println("No secrets set for " + name);
        } else {
          out().println(String.format("%-40s %s", "NAME", "UPDATED"));
          r.getJsonArray("secrets").stream().map(JsonObject.class::cast)
              .forEach(s -> out().println(String.format("%-40s %s", s.getString("name"), s.getString("updatedAt"))));
        }
        return 0;
      }
      case set -> {
        Map<String, String> values = values();
        if (values.isEmpty()) throw new IllegalArgumentException("give KEY=VALUE pairs, or --env-file FILE");
        return report(client.put(path, new JsonObject(new LinkedHashMap<>(values))), "Set", values.keySet());
      }
      default -> {
        if (args.isEmpty()) throw new IllegalArgumentException("give the KEYs to unset");
        JsonObject body = new JsonObject();
        args.forEach(k -> body.putNull(k));
        return report(client.put(path, body), "Unset", args);
      }
    }
  }

  private int report(JsonObject r, String verb, java.util.Collection<String> asked) {
    if (options.json) {
      out().println(r.encodePrettily());
      return 0;
    }
    JsonArray changed = r.getJsonArray("changed", new JsonArray());
    List<String> same = asked.stream().filter(k -> !changed.contains(k)).toList();
    if (!changed.isEmpty()) out().println(verb + " " + String.join(", ", changed.stream().map(String::valueOf).toList()) + " on " + name);
    if (!same.isEmpty()) out().println((verb.equals("Set") ? "Unchanged: " : "Not set: ") + String.join(", ", same));
    JsonObject d = r.getJsonObject("deployment");
    if (d != null) {
      out().println("Restarting " + name + " with the new secrets as deployment " + d.getString("id")
          + " (no rebuild): ferry logs " + d.getString("id") + " --follow");
    } else if (!changed.isEmpty()) {
      out().println(name + " has no deployment to restart; its next deployment gets them");
    }
    return 0;
  }

  /** The values to set: KEY=VALUE arguments, a KEY whose value is stdin, and --env-file. */
  Map<String, String> values() {
    Map<String, String> values = new LinkedHashMap<>();
    if (envFile != null) {
      try {
        String text = envFile.equals("-") ? new String(stdin.readAllBytes(), StandardCharsets.UTF_8) : Files.readString(Path.of(envFile));
        values.putAll(DotEnv.parse(text));
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + envFile + ": " + e.getMessage());
      }
    }
    List<String> fromStdin = new ArrayList<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq > 0) values.put(a.substring(0, eq), a.substring(eq + 1));
      else if (eq < 0) fromStdin.add(a);
      else throw new IllegalArgumentException("'" + a + "' has no KEY before '='");
    }
    if (fromStdin.size() > 1) throw new IllegalArgumentException("only one KEY may take its value from stdin: " + fromStdin);
    if (fromStdin.size() == 1) {
      if ("-".equals(envFile)) throw new IllegalArgumentException("stdin is already the --env-file");
      try {
        String v = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
        values.put(fromStdin.get(0), v.endsWith("\r\n") ? v.substring(0, v.length() - 2) : v.endsWith("\n") ? v.substring(0, v.length() - 1) : v);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read stdin: " + e.getMessage());
      }
    }
    return values;
  }
}
