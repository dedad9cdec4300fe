package dev.ferry.sdk;

import io.vertx.core.json.JsonObject;

/**
 * Reads what Ferry puts in a service verticle's config. Optional: a service may read the keys
 * itself ({@code config().getInteger("http.port")}), and so run unchanged on plain Vert.x.
 */
public final class ServiceConfig {

  /** The port the service must listen on. */
  public static final String HTTP_PORT = "http.port";
  /** The host the service must listen on. */
  public static final String HTTP_HOST = "http.host";
  /** The service's name. */
  public static final String SERVICE = "ferry.service";
  /** The id of this deployment. */
  public static final String DEPLOYMENT = "ferry.deployment";

  private ServiceConfig() {
  }

  /** The port to listen on: Ferry's {@code http.port}, else {@code fallback} (when run outside Ferry). */
  public static int port(JsonObject config, int fallback) {
    return config.getInteger(HTTP_PORT, fallback);
  }

  /** The host to listen on: Ferry's {@code http.host}, else {@code 0.0.0.0}. */
  public static String host(JsonObject config) {
    return config.getString(HTTP_HOST, "0.0.0.0");
  }
}
