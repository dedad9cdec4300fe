/**
 * ⑤ Proxy: routes {@code <service>.<domain>} to the port of the service's current
 * {@code Deployed} deployment, as the runtime set it in {@link dev.ferry.proxy.Routes}: the interface
 * the rest of the platform reaches the proxy through.
 */
package dev.ferry.proxy;
