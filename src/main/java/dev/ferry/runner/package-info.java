/**
 * The runner process: where service code runs, never in the control plane. A runner is a JVM the
 * control plane starts and supervises; it serves it over a private Unix socket
 * ({@link dev.ferry.runner.Agent}) and runs each service it is given on a {@code Vertx} of its own,
 * in the service's own classloader ({@link dev.ferry.runner.ServiceClassLoader}), with every
 * server port it opens bound where the platform says ({@link dev.ferry.runner.PortMap}).
 *
 * <pre>
 * control plane ══ unix socket (hello+secret, load, start, stop, exit) ══► Agent ─► ServiceHost ─► Vertx (PortMap) ─► entry verticle
 *                ◄═ log lines (stdout, stderr, JUL), bound ports, gone ═══
 * </pre>
 *
 * This package depends on nothing of Ferry but the SDK and {@code dev.ferry.common}: with them, it is
 * what the runner's classpath holds.
 */
package dev.ferry.runner;
