package dev.ferry.run;

import io.vertx.core.impl.VertxThread;
import io.vertx.core.spi.VertxThreadFactory;

import java.security.AccessController;
import java.security.PrivilegedAction;
import java.util.concurrent.TimeUnit;

/**
 * Creates Vert.x threads that cannot pin a service's classloader. Vert.x creates some threads
 * lazily (the first worker, the acceptor) while service code is on the stack; a plain thread would
 * inherit the service loader as its context loader and keep the service's protection domain in
 * its inherited access-control context, so the loader could never be collected. Threads made here
 * start from the platform's loader and a context that holds only the platform's frames.
 * Registered as a {@code VertxServiceProvider}, so every Vert.x in the platform's JVM uses it.
 */
public final class IsolatingThreadFactory implements VertxThreadFactory {

  @Override
  @SuppressWarnings("removal")
  public VertxThread newVertxThread(Runnable target, String name, boolean worker, long maxExecTime, TimeUnit unit) {
    VertxThread t = AccessController.doPrivileged(
        (PrivilegedAction<VertxThread>) () -> new VertxThread(target, name, worker, maxExecTime, unit));
    t.setContextClassLoader(IsolatingThreadFactory.class.getClassLoader());
    return t;
  }
}
