package dev.ferry.settings;

/**
 * The {@code tcpBridge} section: the TCP event-bus bridge for non-browser clients.
 *
 * @param enabled whether it listens
 * @param port its port
 */
public record TcpBridgeConfig(boolean enabled, int port) {

  public static final TcpBridgeConfig DEFAULTS = new TcpBridgeConfig(false, 7000);

  public TcpBridgeConfig {
    Check.port("tcpBridge.port", port);
  }
}
