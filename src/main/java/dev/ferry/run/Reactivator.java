package dev.ferry.run;

import dev.ferry.DataDir;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.ServiceRow;
import dev.ferry.deployment.StateName;
import dev.ferry.deployment.Transitions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Activates a stored artifact again, without a rebuild, as a new deployment of its service: a
 * rollback to an earlier deployment ({@code ferry.rollback}), a restart of a crashed service
 * ({@code ferry.restart}), a restart of the current one because what it is given changed
 * ({@code ferry.refresh}). The new deployment names the one whose artifact it runs
 * ({@code source}) and goes {@code built → loaded → deployed} through the usual loader and runtime,
 * so it takes traffic only once ready and the one it replaces is drained; no deployment is rewound.
 * Reads the ledger on worker threads; writes only through {@code ferry.events}.
 */
public final class Reactivator extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Reactivator.class);
  /** How long a refresh waits for a deployment on its way (a build and a start). */
  private static final long SETTLE_WAIT_MS = 60_000;
  /** The states of a deployment that served and may serve again. */
  private static final Set<StateName> SERVED = EnumSet.of(StateName.DEPLOYED, StateName.SLEEPING, StateName.STOPPED, StateName.CRASHED);

  private final LedgerReader ledger;
  private final Transitions transitions;
  private final DataDir dataDir;

  /** Why an activation cannot happen; {@code code} is {@link Addresses#NOT_FOUND} or {@link Addresses#REFUSED}. */
  private static final class Refused extends RuntimeException {
    final int code;

    Refused(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  public Reactivator(LedgerReader ledger, Transitions transitions, DataDir dataDir) {
    this.ledger = ledger;
    this.transitions = transitions;
    this.dataDir = dataDir;
  }

  @Override
  public Future<?> start() {
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.ROLLBACK, m -> answer(m, rollback(m.body().getString("service"),
            m.body().getString("deployment")))).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.RESTART, m -> answer(m, restart(m.body().getString("service")))).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.REFRESH, m -> answer(m, refresh(m.body().getString("service"),
            m.body().getString("why")))).completion());
  }

  /** Replies with the new deployment's JSON (null: nothing was activated), or fails with a code {@link Addresses} names. */
  private void answer(Message<JsonObject> m, Future<Deployment> activation) {
    activation.onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(ar.result() == null ? null : transitions.json(ar.result()));
      } else if (ar.cause() instanceof Refused r) {
        m.fail(r.code, r.getMessage());
      } else {
        log.error("Could not activate a stored artifact for {}", m.body().encode(), ar.cause());
        m.fail(Addresses.FAILURE, ar.cause().toString());
      }
    });
  }

  /**
   * Rolls {@code service} back to deployment {@code id} (null: the newest one that served before,
   * older than the one serving now): its artifact, as a new deployment. Completes with it, {@code built}.
   */
  Future<Deployment> rollback(String service, String id) {
    return vertx.executeBlocking(() -> {
      ServiceRow svc = ledger.service(service).orElseThrow(() -> new Refused(Addresses.NOT_FOUND, "No service named " + service));
      DeploymentRow current = svc.current();
      // the artifact serving now is its source's, when it is a rollback or a restart
      String serving = current == null ? null : origin(current);
      List<DeploymentRow> history = ledger.deployments(service);
      DeploymentRow target;
      if (id != null) {
        target = history.stream().filter(d -> d.id().equals(id)).findFirst()
            .orElseThrow(() -> new Refused(Addresses.NOT_FOUND, "No deployment " + id + " of service " + service));
        if (current != null && (id.equals(serving) || id.equals(current.id()))) {
          throw new Refused(Addresses.REFUSED, "Deployment " + id + " is already serving " + service);
        }
        if (!StateName.in(SERVED, target.state())) {
          throw new Refused(Addresses.REFUSED, "Deployment " + id + " is " + target.state()
              + ": only a deployment that served before can be rolled back to");
        }
      } else {
        // older than what serves, or, when it crashed, than what crashed; rollbacks and restarts are their sources again
        String pivot = serving != null ? serving : history.stream().filter(d -> StateName.CRASHED.is(d.state()))
            .map(Reactivator::origin).findFirst().orElse(null);
        target = history.stream()
            .filter(d -> d.source() == null && StateName.in(SERVED, d.state()))
            .filter(d -> pivot == null || d.id().compareTo(pivot) < 0)
            .findFirst()
            .orElseThrow(() -> new Refused(Addresses.REFUSED, "Nothing to roll back to: " + service
                + " has no deployment that served before " + (pivot == null ? "now" : pivot)));
      }
      refuseMissing(target);
      return activate(target, "rollback", "Rolled back to " + origin(target) + ": its artifact again, not rebuilt");
    }, false);
  }

  /** Starts a crashed service again: its newest deployment's artifact, if that one crashed, as a new deployment. */
  Future<Deployment> restart(String service) {
    return vertx.executeBlocking(() -> {
      ServiceRow svc = ledger.service(service).orElseThrow(() -> new Refused(Addresses.NOT_FOUND, "No service named " + service));
      DeploymentRow latest = svc.latest();
      if (latest == null || !StateName.CRASHED.is(latest.state())) {
        throw new Refused(Addresses.REFUSED, "Service " + service + " has not crashed (its latest deployment is "
            + (latest == null ? "none" : latest.state()) + "): redeploy or roll back instead");
      }
      refuseMissing(latest);
      return activate(latest, "restart", "Restarted after " + latest.id() + " crashed: its artifact again, not rebuilt");
    }, false);
  }

  /**
   * Activates the artifact of {@code service}'s current deployment again, as a new deployment,
   * because what it is given changed ({@code why}: its secrets). With no current deployment, a
   * latest one that failed at load (a secret that was missing) is tried again the same way.
   * Completes with the new deployment ({@code built}), or null if there is nothing to restart.
   */
  Future<Deployment> refresh(String service, String why) {
    return settled(service).compose(svc -> vertx.executeBlocking(() -> {
      if (svc == null) return null;
      DeploymentRow from = svc.current();
      DeploymentRow latest = svc.latest();
      if (from == null && latest != null && StateName.FAILED.is(latest.state()) && "load".equals(latest.errorStage())) {
        from = latest;
      }
      if (from == null || missingArtifact(from).isPresent()) return null;
      return activate(from, "restart", "The artifact of " + from.id() + " again, not rebuilt: " + why);
    }, false));
  }

  /**
   * {@code service} once its newest deployment is no longer on its way: one on its way (the refresh a
   * moment ago, say) read what it is given as it was then, so a refresh waits for it (until its
   * state ends its build, and that is recorded; bounded) and then refreshes what it became.
   */
  private Future<ServiceRow> settled(String service) {
    Set<String> ended = ConcurrentHashMap.newKeySet();
    Promise<Void> awaited = Promise.promise();
    String[] waitingFor = {null};
    MessageConsumer<JsonObject> events = vertx.eventBus().consumer(Addresses.EVENTS, m -> {
      String id = m.body().getString("id");
      if (id == null || !service.equals(m.body().getString("service"))
          || !StateName.in(StateName.FINAL_FOR_BUILD, m.body().getString("state"))) return;
      ended.add(id);
      if (id.equals(waitingFor[0])) awaited.tryComplete();
    });
    // listening first, then the recorder stores what was published before: no state falls between
    return events.completion()
        .compose(x -> vertx.eventBus().request(Addresses.FLUSH, null))
        .compose(x -> vertx.executeBlocking(() -> ledger.service(service).orElse(null), false))
        .compose(svc -> {
          DeploymentRow latest = svc == null ? null : svc.latest();
          if (latest == null || !StateName.in(StateName.IN_PROGRESS, latest.state())) return Future.succeededFuture(svc);
          // on this verticle's context, as the consumer: no event falls between
          waitingFor[0] = latest.id();
          if (ended.contains(waitingFor[0])) awaited.tryComplete();
          long timer = vertx.setTimer(SETTLE_WAIT_MS, t -> awaited.tryComplete());
          return awaited.future()
              .compose(x -> {
                vertx.cancelTimer(timer);
                return vertx.eventBus().request(Addresses.FLUSH, null);
              })
              .compose(x -> vertx.executeBlocking(() -> ledger.service(service).orElse(null), false));
        })
        .eventually(events::unregister);
  }

  /**
   * Publishes a new deployment of {@code from}'s service that runs {@code from}'s artifact (its own
   * hard link of it, so retention counts it like any deployment's), {@code built}, and sends it to the loader.
   */
  private Deployment activate(DeploymentRow from, String stage, String line) throws java.io.IOException {
    String service = from.service();
    String id = Deployment.newId();
    Artifact artifact = from.artifact();
    Path jar = dataDir.artifact(service, id);
    Files.createDirectories(jar.getParent());
    try {
      Files.createLink(jar, artifact.jar());
    } catch (java.io.IOException | UnsupportedOperationException e) {
      Files.copy(artifact.jar(), jar);
      Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
    }
    Deployment d = transitions.begin(Deployment.activation(id, service, new DeploymentState.Built(artifact.at(jar)), origin(from)));
    new DeploymentLog(vertx).info(id, stage, line);
    vertx.eventBus().send(Addresses.LOAD, d);
    log.info("Activating {} as {} from the artifact of {}: {}", service, id, from.id(), line);
    return d;
  }

  /** The deployment whose build a row's artifact is: its source, if it has one, else itself. */
  private static String origin(DeploymentRow row) {
    return row.source() != null ? row.source() : row.id();
  }

  private static void refuseMissing(DeploymentRow row) {
    Optional<String> missing = missingArtifact(row);
    if (missing.isPresent()) throw new Refused(Addresses.REFUSED, missing.get());
  }

  static Optional<String> missingArtifact(DeploymentRow row) {
    Artifact artifact = row.artifact();
    if (artifact == null) return Optional.of("Deployment " + row.id() + " has no artifact");
    if (!Files.isRegularFile(artifact.jar())) {
      return Optional.of("The artifact of deployment " + row.id() + " is gone (" + artifact.jar()
          + "): it was removed by retention or by hand");
    }
    return Optional.empty();
  }
}
