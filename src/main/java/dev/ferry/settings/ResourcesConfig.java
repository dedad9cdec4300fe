package dev.ferry.settings;

/**
 * The {@code resources} section.
 *
 * @param postgres where services' databases live
 * @param secretsKey the key secrets are encrypted with (32 bytes, base64); null: {@code <data dir>/secrets.key}
 */
public record ResourcesConfig(PostgresConfig postgres, String secretsKey) {

  public static final ResourcesConfig DEFAULTS = new ResourcesConfig(PostgresConfig.DEFAULTS, null);

  public ResourcesConfig {
    Check.present("resources.postgres", postgres);
    secretsKey = Check.blankToNull(secretsKey) == null ? null : secretsKey.trim();
  }

  /** Without the key: a config may end up in a log. */
  @Override
  public String toString() {
    return "ResourcesConfig[postgres=" + postgres + ", secretsKey=" + (secretsKey == null ? null : "***") + "]";
  }
}
