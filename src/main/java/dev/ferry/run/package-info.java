/**
 * ④ Run: takes a {@code Loaded} deployment and returns it {@code Deployed} (its verticle running on
 * a free loopback port, answering, and routed) or in {@code Error}; later moves it to
 * {@code Stopped} (superseded) or {@code Deleted}.
 *
 * <pre>
 * verticle class ─► deployVerticle(classloader, http.port) ─► readiness probe ─► route swap ─► drain old ─► undeploy old
 * </pre>
 */
package dev.ferry.run;
