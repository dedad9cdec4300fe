package dev.ferry.settings;

/**
 * The {@code extract} section: what an uploaded archive may expand to.
 *
 * @param maxBytes total bytes
 * @param maxEntries entries
 * @param maxNameLength the longest entry name
 */
public record ExtractConfig(long maxBytes, int maxEntries, int maxNameLength) {

  public static final ExtractConfig DEFAULTS = new ExtractConfig(200L * 1024 * 1024, 10_000, 1024);

  public ExtractConfig {
    Check.positive("extract.maxBytes", maxBytes);
    Check.positive("extract.maxEntries", maxEntries);
    Check.positive("extract.maxNameLength", maxNameLength);
  }
}
