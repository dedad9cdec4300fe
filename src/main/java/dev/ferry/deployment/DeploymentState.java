package dev.ferry.deployment;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The states of one deployment, each owning the data of its stage. Transitions are methods that
 * take one state and return the next, so an illegal transition does not compile.
 *
 * <pre>
 * Queued ─► Built ─► Loaded ─► Deployed ─► Stopped ─► (Built again on rollback)
 *    └────────┴────────┴──► Error          └─► Deleted
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

    public Loaded loaded(ClassLoader loader, String verticleClass, JsonObject resources) {
      return new Loaded(artifact, loader, verticleClass, resources);
    }
  }

  /**
   * The service's own classloader, the verticle class to deploy, and the resources it declared
   * ({@code ferry.postgres}, {@code ferry.secrets}) for its config: credentials, so never in JSON.
   */
  record Loaded(Artifact artifact, ClassLoader loader, String verticleClass, JsonObject resources) implements DeploymentState {
    public Loaded {
      Objects.requireNonNull(loader, "loader");
      Objects.requireNonNull(verticleClass, "verticleClass");
      resources = resources == null ? new JsonObject() : resources;
    }

    public String name() { return "loaded"; }

    @Override
    public String toString() {
      return "Loaded[" + artifact.jar() + ", " + verticleClass + ", resources " + resources.fieldNames() + "]";
    }

    public Deployed deployed(int port, String vertxDeploymentId) { return new Deployed(port, vertxDeploymentId); }
  }

  /** Running on {@code port} as Vert.x deployment {@code vertxDeploymentId}. */
  record Deployed(int port, String vertxDeploymentId) implements DeploymentState {
    public String name() { return "deployed"; }

    public Stopped stopped() { return new Stopped(); }

    public Deleted deleted() { return new Deleted(); }
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
