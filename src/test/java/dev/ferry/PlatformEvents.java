package dev.ferry;

import dev.ferry.deployment.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Every state change {@code ferry.events} carried since a test platform started, in order, and
 * waits that wake on each one: tests wait for what the platform announces instead of polling it.
 */
public final class PlatformEvents {

  private final List<JsonObject> events = new ArrayList<>();

  /** Records what {@code vertx}'s bus carries from now on (registered once this returns). */
  void listen(Vertx vertx) {
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> add(m.body())).completion().await();
  }

  private synchronized void add(JsonObject event) {
    events.add(event);
    notifyAll();
  }

  /** Every event so far. */
  public synchronized List<JsonObject> all() {
    return List.copyOf(events);
  }

  /** The states deployment {@code id} went through, in order (a restarted platform's included). */
  public synchronized List<String> states(String id) {
    List<String> states = new ArrayList<>();
    for (JsonObject e : events) {
      if (id.equals(e.getString("id"))) states.add(e.getString("state"));
    }
    return states;
  }

  /**
   * Waits until deployment {@code id} is in one of {@code states}: its latest event now, or one that
   * comes within {@code timeout}. Returns that event, or null.
   */
  public JsonObject await(String id, Set<String> states, Duration timeout) {
    JsonObject[] found = new JsonObject[1];
    int from;
    synchronized (this) {
      from = events.size();
      // from its latest event on: an earlier visit to the state does not count
      for (int i = events.size() - 1; i >= 0; i--) {
        if (id.equals(events.get(i).getString("id"))) {
          from = i;
          break;
        }
      }
    }
    int start = from;
    until(() -> {
      for (int i = start; i < events.size(); i++) {
        JsonObject e = events.get(i);
        if (id.equals(e.getString("id")) && states.contains(e.getString("state"))) {
          found[0] = e;
          return true;
        }
      }
      return false;
    }, timeout);
    return found[0];
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
