package dev.ferry.builder;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many deployments may wait for or be in a build at once ({@code build.queueCapacity}). The API
 * asks for a place ({@code ferry.build.admit}) before it reads an upload's body and refuses the upload
 * when there is none; the place is given back when the build ends, or when the upload fails before
 * it is queued ({@code ferry.build.leave}).
 */
public final class BuildQueue {

  private final int capacity;
  private final AtomicInteger taken = new AtomicInteger();

  public BuildQueue(int capacity) {
    if (capacity < 1) throw new IllegalArgumentException("build.queueCapacity must be at least 1, not " + capacity);
    this.capacity = capacity;
  }

  /** Takes a place if one is free. */
  public boolean tryEnter() {
    while (true) {
      int n = taken.get();
      if (n >= capacity) return false;
      if (taken.compareAndSet(n, n + 1)) return true;
    }
  }

  /** Gives a place back. */
  public void leave() {
    taken.decrementAndGet();
  }

  /** Deployments accepted and not yet built (waiting or building). */
  public int size() {
    return taken.get();
  }

  public int capacity() {
    return capacity;
  }
}
