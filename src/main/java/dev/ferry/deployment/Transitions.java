package dev.ferry.deployment;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * How every stage moves a deployment on: it applies the transition and publishes the new state on
 * {@code ferry.events}. Stages never write the ledger; the {@link Recorder} does.
 */
public final class Transitions {

  private final EventBus bus;
  private final Function<String, String> urlOf;

  /** {@code urlOf} maps a service name to its public URL. */
  public Transitions(Vertx vertx, Function<String, String> urlOf) {
    this.bus = vertx.eventBus();
    this.urlOf = urlOf;
  }

  /** Registers the in-process codec the pipeline addresses use (records sent by reference). */
  public static void registerCodec(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(Deployment.class, new LocalCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // a second platform on the same Vert.x
    }
  }

  /** {@code deployment} moved to {@code next}; publishes it and returns it. */
  public Deployment publish(Deployment deployment, DeploymentState next) {
    return publish(deployment.to(next));
  }

  /** Publishes {@code deployment} as it is now. */
  public Deployment publish(Deployment deployment) {
    bus.publish(Addresses.EVENTS, json(deployment));
    return deployment;
  }

  /** Publishes that {@code service} was deleted. */
  public void serviceDeleted(String service) {
    bus.publish(Addresses.EVENTS, new JsonObject().put("service", service).put("state", "deleted")
        .put("updatedAt", Deployment.now().toString()));
  }

  public JsonObject json(Deployment deployment) {
    return deployment.toJson(urlOf.apply(deployment.service()));
  }

  private static final class LocalCodec implements MessageCodec<Deployment, Deployment> {
    @Override
    public void encodeToWire(Buffer buffer, Deployment d) {
      throw new UnsupportedOperationException("deployments stay in-process");
    }

    @Override
    public Deployment decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException("deployments stay in-process");
    }

    @Override
    public Deployment transform(Deployment d) {
      return d;
    }

    @Override
    public String name() {
      return "ferry-deployment";
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
