package dev.ferry.settings;

/**
 * The {@code upload} section.
 *
 * @param maxBytes larger uploads are refused
 * @param stallTimeoutMs an upload whose body sends nothing for this long is cut, its partial file deleted
 */
public record UploadConfig(long maxBytes, long stallTimeoutMs) {

  public static final UploadConfig DEFAULTS = new UploadConfig(50L * 1024 * 1024, 30_000);

  public UploadConfig {
    Check.positive("upload.maxBytes", maxBytes);
    Check.positive("upload.stallTimeoutMs", stallTimeoutMs);
  }
}
