package dev.ferry.settings;

import java.util.List;

/**
 * The {@code server} section: the connection rules of the API and the proxy.
 *
 * @param headerTimeoutMs a connection must send a complete request head within this, or it is closed
 * @param idleTimeoutMs a connection with nothing in flight for this long is closed
 * @param maxConnectionsPerClient connections one client address may hold open to each of the API and the proxy; 0: no cap
 * @param trustedProxies addresses of reverse proxies in front of Ferry: their X-Forwarded-For is kept (appended to), and they are not capped
 */
public record ServerConfig(long headerTimeoutMs, long idleTimeoutMs, int maxConnectionsPerClient, List<String> trustedProxies) {

  public static final ServerConfig DEFAULTS = new ServerConfig(10_000, 60_000, 256, List.of());

  public ServerConfig {
    Check.positive("server.headerTimeoutMs", headerTimeoutMs);
    Check.positive("server.idleTimeoutMs", idleTimeoutMs);
    Check.notNegative("server.maxConnectionsPerClient", maxConnectionsPerClient);
    trustedProxies = List.copyOf(trustedProxies);
  }
}
