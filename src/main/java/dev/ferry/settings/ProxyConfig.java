package dev.ferry.settings;

/**
 * The {@code proxy} section.
 *
 * @param port the proxy's port; 0: a free one
 * @param timeoutMs a service that sends nothing for this long gets its request answered 504
 * @param instances proxy event loops; 0: one per core
 */
public record ProxyConfig(int port, long timeoutMs, int instances) {

  public static final ProxyConfig DEFAULTS = new ProxyConfig(8080, 30_000, 0);

  public ProxyConfig {
    Check.port("proxy.port", port);
    Check.positive("proxy.timeoutMs", timeoutMs);
    Check.notNegative("proxy.instances", instances);
  }

  /** How many proxy verticles run: {@code instances}, or one per core when it is 0. */
  public int effectiveInstances() {
    return instances > 0 ? instances : Runtime.getRuntime().availableProcessors();
  }
}
