package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The states of one deployment, each owning the data of its stage. Transitions are methods that
 * take one state and return the next, so an illegal transition does not compile.
 *
 * <pre>
 * Queued ─► Built ─► Loaded ─► Deployed ─► Stopped ─► (Built again on rollback)
 *    └────────┴────────┴──► Error     ▲    ├─► Crashed ─► (Built again on rollback or restart)
 *                                     │    ├─► Deleted
 *                                     │    └─► Sleeping ─► Stopped, Deleted, Crashed
 *                                     └── woken ──┘
 * </pre>
 */
public sealed interface DeploymentState {

  /** The lowercase name used in JSON and on the event bus. */
  String name();

  /** True for states a deployment never leaves on its own. */
  default boolean isFinal() {
    return !(this instanceof Queued || this instanceof Built || this instanceof Loaded);
  }

  /** Any state before {@code deployed} may fail; {@code stage} names the stage that failed. */
  default Error failed(String stage, String message) {
    return new Error(stage, message);
  }

  /** The uploaded archive on disk, waiting for a builder. */
  record Queued(Path archive) implements DeploymentState {
    public Queued {
      Objects.requireNonNull(archive, "archive");
    }

    public String name() { return "queued"; }

    public Built built(Artifact artifact) { return new Built(artifact); }
  }

  /** The packed artifact, ready to be loaded. */
  record Built(Artifact artifact) implements DeploymentState {
    public Built {
      Objects.requireNonNull(artifact, "artifact");
    }

    public String name() { return "built"; }

    public Loaded loaded(String runner, String verticleClass, JsonObject resources) {
      return new Loaded(artifact, runner, verticleClass, resources);
    }
  }

  /**
   * The runner holding the service's classloader, the entry verticle class it found there, and the
   * resources the service declared ({@code ferry.postgres}, {@code ferry.secrets}) for its config:
   * credentials, so never in JSON.
   */
  record Loaded(Artifact artifact, String runner, String verticleClass, JsonObject resources) implements DeploymentState {
    public Loaded {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(verticleClass, "verticleClass");
      resources = resources == null ? new JsonObject() : resources;
    }

    public String name() { return "loaded"; }

    @Override
    public String toString() {
      return "Loaded[" + artifact.jar() + ", " + runner + ", " + verticleClass + ", resources " + resources.fieldNames() + "]";
    }

    public Deployed deployed(int port) { return new Deployed(port, runner); }
  }

  /** Running in runner {@code runner}, its servers on {@code port} (the one the proxy routes to). */
  record Deployed(int port, String runner) implements DeploymentState {
    public String name() { return "deployed"; }

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
    public String name() { return "sleeping"; }

    /** A request woke it: running again in {@code runner} on its port. */
    public Deployed woken(String runner) { return new Deployed(port, runner); }

    /** Woken, it crashed too often to be restarted again. */
    public Crashed crashed(List<String> causes) { return new Crashed(causes); }

    public Stopped stopped() { return new Stopped(); }

    public Deleted deleted() { return new Deleted(); }
  }

  /** The runner crashed too often in a short time to be restarted; its artifact may be activated again. */
  record Crashed(List<String> causes) implements DeploymentState {
    public Crashed {
      causes = List.copyOf(causes);
      if (causes.isEmpty()) throw new IllegalArgumentException("a crash has a cause");
    }

    public String name() { return "crashed"; }

    public Built reactivated(Artifact artifact) { return new Built(artifact); }
  }

  /** The stage that failed and a message a person can act on. */
  record Error(String stage, String message) implements DeploymentState {
    public Error {
      Objects.requireNonNull(stage, "stage");
      Objects.requireNonNull(message, "message");
    }

    public String name() { return "error"; }
  }

  /** Superseded by a newer deployment or stopped by the user; its artifact may be activated again. */
  record Stopped() implements DeploymentState {
    public String name() { return "stopped"; }

    public Built reactivated(Artifact artifact) { return new Built(artifact); }
  }

  /** The service was deleted. */
  record Deleted() implements DeploymentState {
    public String name() { return "deleted"; }
  }
}
