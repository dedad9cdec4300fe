package dev.ferry.run;

/**
 * How many log lines a runner may send: a bucket of {@link #BURST} lines refilled at {@link #PER_SECOND}
 * a second, so a service that logs in a loop cannot flood the ledger. Lines over it are dropped and
 * counted; the next line that passes is preceded by a notice of how many.
 */
final class LogBudget {

  static final int BURST = 50_000;
  static final int PER_SECOND = 10_000;

  private double tokens = BURST;
  private long last = System.nanoTime();
  private long dropped;

  /** Whether one more line may go now. */
  boolean take() {
    long now = System.nanoTime();
    tokens = Math.min(BURST, tokens + (now - last) / 1e9 * PER_SECOND);
    last = now;
    if (tokens >= 1) {
      tokens--;
      return true;
    }
    dropped++;
    return false;
  }

  /** The notice for lines dropped since the last one, or null. */
  String droppedNotice() {
    if (dropped == 0) return null;
    String s = dropped + " log lines dropped: the service logs faster than " + PER_SECOND + " lines a second";
    dropped = 0;
    return s;
  }
}
