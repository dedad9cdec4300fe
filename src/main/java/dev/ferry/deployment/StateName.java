package dev.ferry.deployment;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The names of a deployment's states, spelled once: in JSON, on {@code ferry.events}, in the
 * ledger and for watchers. {@link DeploymentState} has one record per name; {@link Transitions}
 * holds which name may follow which.
 */
public enum StateName {
  QUEUED, BUILT, LOADED, DEPLOYED, SLEEPING, CRASHED,
  /** Its record is {@link DeploymentState.Failed}; its wire name stayed "error". */
  FAILED("error"),
  STOPPED, DELETED;

  /** On the way to serving: these may fail, and a platform that stops meanwhile interrupts them. */
  public static final Set<StateName> IN_PROGRESS = Collections.unmodifiableSet(EnumSet.of(QUEUED, BUILT, LOADED));
  /** Its service's current deployment: it serves, or sleeps until a request wakes it. */
  public static final Set<StateName> LIVE = Collections.unmodifiableSet(EnumSet.of(DEPLOYED, SLEEPING));
  /** Final for a build: the pipeline is done with it, either way (a deploy's watcher stops here). */
  public static final Set<StateName> FINAL_FOR_BUILD = Collections.unmodifiableSet(EnumSet.complementOf(EnumSet.of(QUEUED, BUILT, LOADED)));
  /** Final for a run: a deployment never leaves these (a follower of its log stops here). */
  public static final Set<StateName> FINAL_FOR_RUN = Collections.unmodifiableSet(EnumSet.of(FAILED, CRASHED, STOPPED, DELETED));

  private final String wire;

  StateName() {
    this.wire = name().toLowerCase(java.util.Locale.ROOT);
  }

  StateName(String wire) {
    this.wire = wire;
  }

  /** The lowercase name in JSON, on the event bus and in the ledger. */
  public String wire() {
    return wire;
  }

  /** True if {@code wire} (a state as JSON carries it; may be null) names this state. */
  public boolean is(String wire) {
    return this.wire.equals(wire);
  }

  /** True if {@code wire} (may be null) names one of {@code names}. */
  public static boolean in(Set<StateName> names, String wire) {
    for (StateName n : names) {
      if (n.is(wire)) return true;
    }
    return false;
  }

  /** The state named {@code wire}; throws if there is none. */
  public static StateName of(String wire) {
    for (StateName n : values()) {
      if (n.is(wire)) return n;
    }
    throw new IllegalArgumentException("No deployment state named " + wire);
  }

  /** The wire names of {@code names}. */
  public static String[] wires(Set<StateName> names) {
    return names.stream().map(StateName::wire).toArray(String[]::new);
  }

  @Override
  public String toString() {
    return wire;
  }
}
