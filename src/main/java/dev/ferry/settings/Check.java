package dev.ferry.settings;

import java.util.List;
import java.util.Locale;

/** The checks settings' records make of their values; each message names the key in full. */
public final class Check {

  private Check() {
  }

  public static long positive(String key, long v) {
    if (v <= 0) throw new IllegalArgumentException(key + " must be positive: " + v);
    return v;
  }

  public static int positive(String key, int v) {
    return (int) positive(key, (long) v);
  }

  public static long notNegative(String key, long v) {
    if (v < 0) throw new IllegalArgumentException(key + " must not be negative: " + v);
    return v;
  }

  public static int notNegative(String key, int v) {
    return (int) notNegative(key, (long) v);
  }

  public static int port(String key, int v) {
    if (v < 0 || v > 65535) throw new IllegalArgumentException(key + " must be a port (0-65535): " + v);
    return v;
  }

  public static int between(String key, int v, int min, int max) {
    if (v < min || v > max) throw new IllegalArgumentException(key + " must be between " + min + " and " + max + ", not " + v);
    return v;
  }

  /** {@code v}, trimmed and lower-cased, if it is one of {@code allowed}. */
  public static String oneOf(String key, String v, String... allowed) {
    String s = v == null ? null : v.trim().toLowerCase(Locale.ROOT);
    if (s == null || !List.of(allowed).contains(s)) {
      throw new IllegalArgumentException(key + " must be " + String.join(" or ", allowed) + ", not " + v);
    }
    return s;
  }

  public static <T> T present(String key, T v) {
    if (v == null) throw new IllegalArgumentException(key + " must be set");
    return v;
  }

  /** Null for a blank value: unset. */
  public static String blankToNull(String v) {
    return v == null || v.isBlank() ? null : v;
  }
}
