package dev.ferry.deployment;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static dev.ferry.deployment.StateName.BUILT;
import static dev.ferry.deployment.StateName.CRASHED;
import static dev.ferry.deployment.StateName.DELETED;
import static dev.ferry.deployment.StateName.DEPLOYED;
import static dev.ferry.deployment.StateName.FAILED;
import static dev.ferry.deployment.StateName.LOADED;
import static dev.ferry.deployment.StateName.QUEUED;
import static dev.ferry.deployment.StateName.SLEEPING;
import static dev.ferry.deployment.StateName.STOPPED;

/**
 * How every stage moves a deployment on: {@link #check} decides, by one table, whether the move is
 * legal; the new state is published on {@code ferry.events}. Stages never write the ledger; the
 * {@link Recorder} does.
 */
public final class Transitions {

  private static final Logger log = LoggerFactory.getLogger(Transitions.class);

  /** The states a deployment begins in: an upload, or a stored artifact activated again. */
  static final Set<StateName> STARTS = Collections.unmodifiableSet(EnumSet.of(QUEUED, BUILT));
  /** Which states may follow which: every move of every deployment is checked against it. */
  static final Map<StateName, Set<StateName>> TABLE = table();

  private static Map<StateName, Set<StateName>> table() {
    Map<StateName, Set<StateName>> t = new EnumMap<>(StateName.class);
    for (StateName s : StateName.values()) t.put(s, EnumSet.noneOf(StateName.class));
    t.put(QUEUED, EnumSet.of(BUILT, FAILED));
    t.put(BUILT, EnumSet.of(LOADED, FAILED));
    t.put(LOADED, EnumSet.of(DEPLOYED, FAILED));
    t.put(DEPLOYED, EnumSet.of(SLEEPING, STOPPED, DELETED, CRASHED));
    t.put(SLEEPING, EnumSet.of(DEPLOYED, STOPPED, DELETED, CRASHED));
    t.replaceAll((from, to) -> Collections.unmodifiableSet(to));
    return Collections.unmodifiableMap(t);
  }

  private final EventBus bus;
  private final Function<String, String> urlOf;

  /** {@code urlOf} maps a service name to its public URL. */
  public Transitions(Vertx vertx, Function<String, String> urlOf) {
    this.bus = vertx.eventBus();
    this.urlOf = urlOf;
  }

  /** True if a deployment may move from {@code from} to {@code to}. */
  public static boolean legal(StateName from, StateName to) {
    return TABLE.get(from).contains(to);
  }

  /** Throws (and logs, naming both states) unless deployment {@code id} may move from {@code from} to {@code to}. */
  static void check(String id, DeploymentState from, DeploymentState to) {
    if (legal(from.kind(), to.kind())) return;
    String why = "Illegal transition of deployment " + id + ": " + from.name() + " → " + to.name();
    log.error("{}", why);
    throw new IllegalStateException(why);
  }

  /** Registers the in-process codec the pipeline addresses use (records sent by reference). */
  public static void registerCodec(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(Deployment.class, new LocalCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // a second platform on the same Vert.x
    }
  }

  /** {@code deployment} moves to {@code next} if the table allows it (else throws); publishes it and returns it. */
  public Deployment publish(Deployment deployment, DeploymentState next) {
    return send(deployment.to(next));
  }

  /** Publishes a new deployment in its first state ({@code queued} or {@code built}); throws for any other. */
  public Deployment begin(Deployment deployment) {
    if (!STARTS.contains(deployment.state().kind()) || deployment.timeline().size() != 1) {
      String why = "Deployment " + deployment.id() + " cannot begin " + deployment.state().name() + " (only " + STARTS + ", with nothing before)";
      log.error("{}", why);
      throw new IllegalStateException(why);
    }
    return send(deployment);
  }

  private Deployment send(Deployment deployment) {
    bus.publish(Addresses.EVENTS, json(deployment));
    return deployment;
  }

  /** Publishes that {@code service} was deleted. */
  public void serviceDeleted(String service) {
    bus.publish(Addresses.EVENTS, new JsonObject().put("service", service).put("state", StateName.DELETED.wire())
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
