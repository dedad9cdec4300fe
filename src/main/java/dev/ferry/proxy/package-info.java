/**
 * ⑤ Proxy: routes {@code <service>.<domain>} to the port of the service's current
 * {@code Deployed} deployment, as the runtime set it in {@link dev.ferry.proxy.Routes}.
 */
package dev.ferry.proxy;
