package dev.ferry.deployment;

/** The event-bus addresses of the pipeline. */
public final class Addresses {
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
   * Request/reply: the recorder answers once everything sent to it before this request is in the
   * ledger (a barrier for readers that must not miss a line).
   */
  public static final String FLUSH = "ferry.ledger.flush";
  /** Point to point: every log line of every deployment, for the recorder. */
  public static final String LOG = "ferry.log";
  /** Published per deployment: its log lines as JSON. */
  public static String logs(String deploymentId) {
    return "ferry.logs." + deploymentId;
  }

  private Addresses() {
  }
}
