package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a service asks to be run, from its pom's {@code <properties>}; what it leaves out, the
 * platform's configuration decides.
 *
 * @param isolation {@code ferry.isolation}: {@code process} (a runner of its own) or {@code shared}
 * @param memoryMb  {@code ferry.memoryMb}: the heap of its runner
 * @param port      {@code ferry.port}: which of the ports its code listens on receives the traffic
 *                  (default: the first one it opens)
 */
public record RunSettings(Optional<String> isolation, OptionalInt memoryMb, OptionalInt port) {

  public static final String PROCESS = "process";
  public static final String SHARED = "shared";
  public static final RunSettings DEFAULT = new RunSettings(Optional.empty(), OptionalInt.empty(), OptionalInt.empty());

  public RunSettings {
    isolation.ifPresent(RunSettings::isolation);
    memoryMb.ifPresent(m -> {
      if (m < 32 || m > 65_536) throw new IllegalArgumentException("ferry.memoryMb must be between 32 and 65536, not " + m);
    });
    port.ifPresent(p -> {
      if (p < 1 || p > 65_535) throw new IllegalArgumentException("ferry.port must be a port (1-65535), not " + p);
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
        integer(property, "ferry.memoryMb"), integer(property, "ferry.port"));
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
    return json;
  }

  public static RunSettings fromJson(JsonObject json) {
    if (json == null) return DEFAULT;
    Integer m = json.getInteger("memoryMb"), p = json.getInteger("port");
    return new RunSettings(Optional.ofNullable(json.getString("isolation")), m == null ? OptionalInt.empty() : OptionalInt.of(m),
        p == null ? OptionalInt.empty() : OptionalInt.of(p));
  }
}
