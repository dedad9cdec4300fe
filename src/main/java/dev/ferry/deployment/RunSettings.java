package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a service asks to be run, from its pom's {@code <properties>}; what it leaves out, the
 * platform's configuration decides.
 *
 * @param isolation    {@code ferry.isolation}: {@code process} (a runner of its own) or {@code shared}
 * @param memoryMb     {@code ferry.memoryMb}: the heap of its runner
 * @param port         {@code ferry.port}: which of the ports its code listens on receives the traffic
 *                     (default: the first one it opens)
 * @param rssMb        {@code ferry.rssMb}: its runner's resident memory ({@code run.rssMb})
 * @param tmpMb        {@code ferry.tmpMb}: the size of its runner's {@code /tmp} ({@code run.tmpMb})
 * @param maxProcesses {@code ferry.maxProcesses}: processes and threads ({@code run.maxProcesses})
 * @param maxOpenFiles {@code ferry.maxOpenFiles}: open files and sockets ({@code run.maxOpenFiles})
 * @param cpuShares    {@code ferry.cpuShares}: its CPU weight ({@code run.cpuShares})
 */
public record RunSettings(Optional<String> isolation, OptionalInt memoryMb, OptionalInt port, OptionalInt rssMb, OptionalInt tmpMb,
                          OptionalInt maxProcesses, OptionalInt maxOpenFiles, OptionalInt cpuShares) {

  public static final String PROCESS = "process";
  public static final String SHARED = "shared";
  public static final RunSettings DEFAULT = new RunSettings(Optional.empty(), OptionalInt.empty(), OptionalInt.empty());

  public RunSettings {
    isolation.ifPresent(RunSettings::isolation);
    within("ferry.memoryMb", memoryMb, 32, 65_536);
    within("ferry.port", port, 1, 65_535);
    within("ferry.rssMb", rssMb, 64, 262_144);
    within("ferry.tmpMb", tmpMb, 1, 65_536);
    within("ferry.maxProcesses", maxProcesses, 32, 1_000_000);
    within("ferry.maxOpenFiles", maxOpenFiles, 64, 1_048_576);
    within("ferry.cpuShares", cpuShares, 2, 262_144);
  }

  public RunSettings(Optional<String> isolation, OptionalInt memoryMb, OptionalInt port) {
    this(isolation, memoryMb, port, OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
  }

  private static void within(String key, OptionalInt value, int min, int max) {
    value.ifPresent(v -> {
      if (v < min || v > max) throw new IllegalArgumentException(key + " must be between " + min + " and " + max + ", not " + v);
    });
  }

  /** {@code value} if it names an isolation mode; else a message naming the modes. */
  public static String isolation(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (!v.equals(PROCESS) && !v.equals(SHARED)) {
      throw new IllegalArgumentException("isolation must be " + PROCESS + " or " + SHARED + ", not " + value);
    }
    return v;
  }

  /** Reads the {@code ferry.*} properties of a pom ({@code property} returns a trimmed value or empty). */
  public static RunSettings fromProperties(java.util.function.Function<String, Optional<String>> property) {
    return new RunSettings(property.apply("ferry.isolation").map(RunSettings::isolation),
        integer(property, "ferry.memoryMb"), integer(property, "ferry.port"), integer(property, "ferry.rssMb"),
        integer(property, "ferry.tmpMb"), integer(property, "ferry.maxProcesses"), integer(property, "ferry.maxOpenFiles"),
        integer(property, "ferry.cpuShares"));
  }

  private static OptionalInt integer(java.util.function.Function<String, Optional<String>> property, String key) {
    Optional<String> v = property.apply(key);
    if (v.isEmpty()) return OptionalInt.empty();
    try {
      return OptionalInt.of(Integer.parseInt(v.get().trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, not " + v.get());
    }
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    isolation.ifPresent(i -> json.put("isolation", i));
    memoryMb.ifPresent(m -> json.put("memoryMb", m));
    port.ifPresent(p -> json.put("port", p));
    rssMb.ifPresent(v -> json.put("rssMb", v));
    tmpMb.ifPresent(v -> json.put("tmpMb", v));
    maxProcesses.ifPresent(v -> json.put("maxProcesses", v));
    maxOpenFiles.ifPresent(v -> json.put("maxOpenFiles", v));
    cpuShares.ifPresent(v -> json.put("cpuShares", v));
    return json;
  }

  public static RunSettings fromJson(JsonObject json) {
    if (json == null) return DEFAULT;
    return new RunSettings(Optional.ofNullable(json.getString("isolation")), optional(json, "memoryMb"), optional(json, "port"),
        optional(json, "rssMb"), optional(json, "tmpMb"), optional(json, "maxProcesses"), optional(json, "maxOpenFiles"),
        optional(json, "cpuShares"));
  }

  private static OptionalInt optional(JsonObject json, String key) {
    Integer v = json.getInteger(key);
    return v == null ? OptionalInt.empty() : OptionalInt.of(v);
  }
}
