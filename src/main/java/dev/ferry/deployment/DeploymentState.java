package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The states of one deployment, each owning the data of its stage. The methods that take one state
 * to the next say which moves a stage may make; {@link Transitions#check} is the one table that
 * decides, and every move is checked against it.
 *
 * <pre>
 * upload ──────────► Queued ─► Built ─► Loaded ─► Deployed ◄─► Sleeping
 *                               ▲                      └─────┬─────┘
 * rollback, restart ────────────┘                            ▼
 * (a stored artifact, as a new deployment)      Stopped, Deleted, Crashed
 *
 * Queued, Built, Loaded ─► Failed
 * </pre>
 *
 * A deployment begins {@code queued} (an upload) or {@code built} (a stored artifact activated
 * again, as a new deployment); {@code failed}, {@code crashed}, {@code stopped} and {@code deleted}
 * are never left.
 */
public sealed interface DeploymentState {

  /** Which state this is. */
  StateName kind();

  /** The lowercase name used in JSON and on the event bus. */
  default String name() {
    return kind().wire();
  }

  /** A state on the way to serving, which may fail. */
  sealed interface InProgress extends DeploymentState {
    /** {@code stage} names the stage that failed; {@code message} says why, for a person to act on. */
    default Failed failed(String stage, String message) {
      return new Failed(stage, message);
    }
  }

  /** The uploaded archive on disk, waiting for a builder. */
  record Queued(Path archive) implements InProgress {
    public Queued {
      Objects.requireNonNull(archive, "archive");
    }

    public StateName kind() { return StateName.QUEUED; }

    public Built built(Artifact artifact) { return new Built(artifact); }
  }

  /** The packed artifact, ready to be loaded. */
  record Built(Artifact artifact) implements InProgress {
    public Built {
      Objects.requireNonNull(artifact, "artifact");
    }

    public StateName kind() { return StateName.BUILT; }

    public Loaded loaded(String runner, String verticleClass, JsonObject resources) {
      return new Loaded(artifact, runner, verticleClass, resources);
    }
  }

  /**
   * The runner holding the service's classloader, the entry verticle class it found there, and the
   * resources the service declared ({@code ferry.postgres}, {@code ferry.secrets}) for its config:
   * credentials, so never in JSON.
   */
  record Loaded(Artifact artifact, String runner, String verticleClass, JsonObject resources) implements InProgress {
    public Loaded {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(verticleClass, "verticleClass");
      resources = resources == null ? new JsonObject() : resources;
    }

    public StateName kind() { return StateName.LOADED; }

    @Override
    public String toString() {
      return "Loaded[" + artifact.jar() + ", " + runner + ", " + verticleClass + ", resources " + resources.fieldNames() + "]";
    }

    public Deployed deployed(int port) { return new Deployed(port); }
  }

  /** Serving on {@code port} (the one the proxy routes to). */
  record Deployed(int port) implements DeploymentState {
    public StateName kind() { return StateName.DEPLOYED; }

    public Stopped stopped() { return new Stopped(); }

    public Deleted deleted() { return new Deleted(); }

    /** Its runner crashed too often to be restarted again; {@code causes} are the last crashes' exit causes. */
    public Crashed crashed(List<String> causes) { return new Crashed(causes); }

    /** Idle for {@code run.idleTimeoutMs}: its runner is stopped (or its verticle undeployed); it keeps its port. */
    public Sleeping sleeping() { return new Sleeping(port); }
  }

  /**
   * Idle for {@code run.idleTimeoutMs}, it was put to sleep: nothing of it runs, its artifact and
   * its port are kept, and the next request for its service wakes it (the request waits and is
   * answered). Not an error: still the service's current deployment.
   */
  record Sleeping(int port) implements DeploymentState {
    public StateName kind() { return StateName.SLEEPING; }

    /** A request woke it: serving again on its port. */
    public Deployed woken() { return new Deployed(port); }

    /** Woken, it crashed too often to be restarted again. */
    public Crashed crashed(List<String> causes) { return new Crashed(causes); }

    public Stopped stopped() { return new Stopped(); }

    public Deleted deleted() { return new Deleted(); }
  }

  /** The runner crashed too often in a short time to be restarted; a restart activates its artifact as a new deployment. */
  record Crashed(List<String> causes) implements DeploymentState {
    public Crashed {
      causes = List.copyOf(causes);
      if (causes.isEmpty()) throw new IllegalArgumentException("a crash has a cause");
    }

    public StateName kind() { return StateName.CRASHED; }
  }

  /** The stage that failed and a message a person can act on (named {@code error} in JSON). */
  record Failed(String stage, String message) implements DeploymentState {
    public Failed {
      Objects.requireNonNull(stage, "stage");
      Objects.requireNonNull(message, "message");
    }

    public StateName kind() { return StateName.FAILED; }
  }

  /** Superseded by a newer deployment; a rollback activates its artifact as a new deployment. */
  record Stopped() implements DeploymentState {
    public StateName kind() { return StateName.STOPPED; }
  }

  /** The service was deleted. */
  record Deleted() implements DeploymentState {
    public StateName kind() { return StateName.DELETED; }
  }
}
