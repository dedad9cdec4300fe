package dev.ferry.settings;

/**
 * The {@code api} section.
 *
 * @param port the API's port; 0: a free one
 * @param metricsPublic whether {@code /metrics} answers without the API token (Prometheus scrapers often cannot send one)
 */
public record ApiConfig(int port, boolean metricsPublic) {

  public static final ApiConfig DEFAULTS = new ApiConfig(8000, true);

  public ApiConfig {
    Check.port("api.port", port);
  }
}
