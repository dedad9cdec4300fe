package dev.ferry.deployment;

/** The event-bus addresses of the pipeline. */
public final class Addresses {
  /**
   * Request/reply: a place in the build queue for an upload about to be read (no body); answered
   * empty when one was taken, failed with {@link #FULL} and a message naming the capacity when none is free.
   */
  public static final String ADMIT = "ferry.build.admit";
  /** Point to point: gives back a place taken with {@link #ADMIT} for an upload that was never queued. */
  public static final String LEAVE = "ferry.build.leave";
  /** The failure code of an {@link #ADMIT} refused: the build queue is full. */
  public static final int FULL = 1;
  /** Point to point: a queued {@link Deployment} for the builder. */
  public static final String BUILD = "ferry.build";
  /** Point to point: a built {@link Deployment} for the loader. */
  public static final String LOAD = "ferry.load";
  /** Point to point: a loaded {@link Deployment} for the runtime. */
  public static final String RUN = "ferry.run";
  /** Published: each state change, as JSON. */
  public static final String EVENTS = "ferry.events";
  /** Request/reply: delete a service (body: its name); the runtime answers once it is undeployed. */
  public static final String DELETE = "ferry.delete";
  /**
   * Request/reply: roll a service back (body {@code {"service", "deployment"}}, no deployment: the
   * previous one) by activating an earlier deployment's stored artifact as a new deployment. The
   * reply is the new deployment's JSON ({@code built}), or a failure with {@link #NOT_FOUND},
   * {@link #REFUSED} or {@link #FAILURE} and a message.
   */
  public static final String ROLLBACK = "ferry.rollback";
  /** Request/reply: start a crashed service again (body {@code {"service"}}); replies as {@link #ROLLBACK} does. */
  public static final String RESTART = "ferry.restart";
  /**
   * Request/reply: start the current deployment's artifact again as a new deployment because what it
   * is given changed (body {@code {"service", "why"}}); replies as {@link #ROLLBACK} does, with null
   * when there is nothing to restart.
   */
  public static final String REFRESH = "ferry.refresh";
  /** Failure code of a reply: no such service or deployment. */
  public static final int NOT_FOUND = 1;
  /** Failure code of a reply: what was asked cannot be done now (the message says why). */
  public static final int REFUSED = 2;
  /** Failure code of a reply: the platform failed (its log says more). */
  public static final int FAILURE = 3;
  /**
   * Request/reply: the recorder answers once everything sent to it before this request is in the
   * ledger (a barrier for readers that must not miss a line).
   */
  public static final String FLUSH = "ferry.ledger.flush";
  /**
   * Request/reply: the recorder answers once the {@link Deployment} sent, as it is or as a later
   * state, is in the ledger, or fails if writing it failed.
   */
  public static final String RECORDED = "ferry.ledger.recorded";
  /** Point to point: every log line of every deployment, for the recorder. */
  public static final String LOG = "ferry.log";
  /** Published per deployment: its log lines as JSON. */
  public static String logs(String deploymentId) {
    return "ferry.logs." + deploymentId;
  }

  private Addresses() {
  }
}
