package dev.ferry.run;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * Runner JVMs starting at once: at most {@code limit} between their spawn and their hello; later
 * launches wait their turn. A hundred JVMs started together on two cores (a restore with nothing
 * to adopt, a burst of wakes) all miss their deadlines (the hello, the runner's orphan timer) and
 * fail together. Used on one context.
 */
final class LaunchQueue {

  private final int limit;
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private int starting;
  private boolean closed;
  private final Promise<Void> settled = Promise.promise();

  LaunchQueue(int limit) {
    this.limit = limit;
  }

  /** Runs {@code launch} now, or once fewer than {@code limit} launches are under way. */
  <T> Future<T> submit(Supplier<Future<T>> launch) {
    Promise<T> p = Promise.promise();
    Runnable go = () -> {
      if (closed) {
        p.fail(new Runner.Refused("The platform is shutting down"));
        return;
      }
      starting++;
      launch.get().onComplete(ar -> {
        starting--;
        Runnable next = waiting.poll();
        if (next != null) next.run();
        p.handle(ar);
        if (closed && starting == 0) settled.tryComplete();
      });
    };
    if (starting < limit) go.run();
    else waiting.add(go);
    return p.future();
  }

  /** Launches still waiting fail; those under way finish. Completes once they have (each one's own future first). */
  Future<Void> close() {
    closed = true;
    for (Runnable r; (r = waiting.poll()) != null; ) r.run();
    if (starting == 0) settled.tryComplete();
    return settled.future();
  }
}
