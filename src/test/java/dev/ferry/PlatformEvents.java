package dev.ferry;

import dev.ferry.deployment.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Every state change {@code ferry.events} carried since a test platform started, in order, and
 * waits that wake on each one: tests wait for what the platform announces instead of polling it.
 */
public final class PlatformEvents {

  private final List<JsonObject> events = new ArrayList<>();
  /** Where the consumer gets its messages, in the order they were published. */
  private Context context;

  /** Records what {@code vertx}'s bus carries from now on (registered once this returns). */
  void listen(Vertx vertx) {
    context = vertx.getOrCreateContext();
    Promise<Void> registered = Promise.promise();
    context.runOnContext(v -> vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> add(m.body()))
        .completion().onComplete(registered));
    registered.future().await();
  }

  private synchronized void add(JsonObject event) {
    events.add(event);
    notifyAll();
  }

  /**
   * Returns once every event published before the call is recorded here: a publish queues its
   * delivery on the consumer's context, so a task queued there now runs after it.
   */
  private void sync() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> done.complete());
    done.future().await();
  }

  /** Every event so far. */
  public List<JsonObject> all() {
    sync();
    synchronized (this) {
      return List.copyOf(events);
    }
  }

  /** The states deployment {@code id} went through so far, in order (a restarted platform's included). */
  public List<String> states(String id) {
    sync();
    synchronized (this) {
      List<String> states = new ArrayList<>();
      for (JsonObject e : events) {
        if (id.equals(e.getString("id"))) states.add(e.getString("state"));
      }
      return states;
    }
  }

  /** How many events have arrived: a mark for {@link #awaitAfter}. */
  synchronized int mark() {
    return events.size();
  }

  /** Waits until an event about deployment {@code id} arrived after {@code mark}; false after {@code timeout}. */
  boolean awaitAfter(int mark, String id, Duration timeout) {
    return until(() -> {
      for (int i = mark; i < events.size(); i++) {
        if (id.equals(events.get(i).getString("id"))) return true;
      }
      return false;
    }, timeout);
  }

  /**
   * Waits until {@code condition} holds, testing it now and after each event (so it must be one that
   * changes no later than the event that announces it); false after {@code timeout}.
   */
  public synchronized boolean until(BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!condition.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
