package dev.ferry.run;

import dev.ferry.DataDir;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.LogLine;
import dev.ferry.deployment.ServiceRow;
import dev.ferry.deployment.Transitions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Activates stored artifacts again, without a rebuild: every service that was deployed when the
 * platform stopped ({@link #restore}), or a service's earlier deployment ({@link #rollback}). The
 * deployment keeps its id and goes {@code stopped → built → loaded → deployed} through the usual
 * loader and runtime, so it takes traffic only once ready, and the one it replaces is drained.
 * Reads the ledger on worker threads; writes only through {@code ferry.events}.
 */
public final class Reactivator {

  /** How long a rollback waits for its target to finish draining (above run.drainTimeoutMs's default). */
  private static final java.time.Duration DRAIN_WAIT = java.time.Duration.ofSeconds(10);
  /** How long a refresh waits for a deployment on its way (a build and a start). */
  private static final java.time.Duration SETTLE_WAIT = java.time.Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(Reactivator.class);
  /** The message of a deployment that was mid-way when the platform stopped. */
  public static final String INTERRUPTED = "interrupted by restart";

  private final Vertx vertx;
  private final LedgerReader ledger;
  private final Transitions transitions;
  private final DataDir dataDir;

  /** Why a rollback cannot happen, with the HTTP status that says so. */
  public static final class Refused extends RuntimeException {
    private final int status;
    private final String code;

    Refused(int status, String code, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
    }

    public int status() { return status; }
    public String code() { return code; }
  }

  public Reactivator(Vertx vertx, LedgerReader ledger, Transitions transitions, DataDir dataDir) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.transitions = transitions;
    this.dataDir = dataDir;
  }

  /**
   * After a restart: marks deployments caught mid-way as failed; adopts each service's current
   * deployment where its runner still serves it (nothing restarts); one that slept stays asleep, and
   * one whose runner is gone is put to sleep, to start on its first request (or, with
   * {@code run.idleTimeoutMs} 0, is sent to the loader again at once). Completes with the number of
   * services restored.
   */
  public Future<Integer> restore(ServiceRuntime runtime) {
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> {
      for (DeploymentRow row : ledger.inState("queued", "built", "loaded")) interrupt(row);
      Map<String, List<DeploymentRow>> deployed = new LinkedHashMap<>();
      for (DeploymentRow row : ledger.inState("deployed", "sleeping")) {
        deployed.computeIfAbsent(row.service(), s -> new ArrayList<>()).add(row);
      }
      List<DeploymentRow> currents = new ArrayList<>();
      for (List<DeploymentRow> rows : deployed.values()) {
        // the one that went live last is current; a kill mid-swap may leave an older one marked deployed
        rows.sort(Comparator.comparing((DeploymentRow r) -> r.timeline().getOrDefault("deployed", Instant.MIN)).reversed());
        for (DeploymentRow older : rows.subList(1, rows.size())) {
          transitions.publish(older.deployment(new DeploymentState.Stopped()), new DeploymentState.Stopped());
        }
        Optional<String> missing = missingArtifact(rows.get(0));
        if (missing.isPresent()) {
          Deployment d = rows.get(0).deployment(new DeploymentState.Stopped());
          transitions.publish(d, new DeploymentState.Error("restart", missing.get()));
          continue;
        }
        // crashes before the restart still count: a restart is no way out of a crash loop
        List<LogLine> crashes = recentCrashes(rows.get(0).id());
        if (crashes.size() >= Crashes.LIMIT) {
          crashedBeforeRestart(runtime, rows.get(0), crashes);
          continue;
        }
        runtime.rememberCrashes(rows.get(0).id(), crashes.stream().map(LogLine::ts).toList(),
            crashes.stream().map(Reactivator::cause).toList());
        currents.add(rows.get(0));
      }
      log.debug("Read {} services to restore from the ledger in {} ms", currents.size(), (System.nanoTime() - t0) / 1_000_000);
      return currents;
    }, false).compose(currents -> runtime.adopt(currents).map(rest -> {
      rest.forEach(this::activate);
      if (!currents.isEmpty()) {
        log.info("Restoring {} services: {} adopted or asleep until their first request, {} started again from their stored artifacts ({} ms)",
            currents.size(), currents.size() - rest.size(), rest.size(), (System.nanoTime() - t0) / 1_000_000);
      }
      return currents.size();
    }));
  }

  /** The deployment's crashes within {@link Crashes#WINDOW}, from its log in the ledger, oldest first. */
  private List<LogLine> recentCrashes(String id) {
    Instant since = Instant.now().minus(Crashes.WINDOW);
    List<LogLine> out = new ArrayList<>();
    for (LogLine line : ledger.logs(id)) {
      if ("crash".equals(line.stage()) && line.message().startsWith(Crashes.CRASHED) && line.ts().isAfter(since)) out.add(line);
    }
    return out;
  }

  private static String cause(LogLine crashLine) {
    return crashLine.message().substring(Crashes.CRASHED.length());
  }

  /** {@code row} crashed its limit within the window before the restart: it starts crashed, not again. */
  private void crashedBeforeRestart(ServiceRuntime runtime, DeploymentRow row, List<LogLine> crashes) {
    List<String> causes = crashes.subList(crashes.size() - Crashes.LIMIT, crashes.size()).stream().map(Reactivator::cause).toList();
    DeploymentState.Deployed was = new DeploymentState.Deployed(row.port() == null ? 0 : row.port(), "none");
    String service = row.service();
    String why = "Service " + service + " crashed " + crashes.size() + " times within " + Crashes.WINDOW.toMinutes()
        + " minutes before the platform restarted and is not started again; redeploy it, roll it back or restart it. Last: "
        + causes.get(causes.size() - 1);
    new dev.ferry.deployment.DeploymentLog(vertx).error(row.id(), "crash", why);
    transitions.publish(row.deployment(was), was.crashed(causes));
    runtime.routes().down(service, why);
    log.warn("{}", why);
  }

  private void interrupt(DeploymentRow row) {
    String state = row.state();
    DeploymentState from = row.artifact() == null ? new DeploymentState.Queued(dataDir.upload(row.id()))
        : new DeploymentState.Built(row.artifact());
    String stage = switch (state) {
      case "queued" -> "build";
      case "built" -> "load";
      default -> "deploy";
    };
    try {
      Files.deleteIfExists(dataDir.upload(row.id()));
    } catch (java.io.IOException e) {
      log.warn("Could not delete the upload of {}", row.id(), e);
    }
    transitions.publish(row.deployment(from), from.failed(stage, INTERRUPTED));
  }

  /**
   * Re-activates deployment {@code id} of {@code service} (null: the newest stopped deployment older
   * than the current one). Completes with the deployment, now {@code built}; fails with
   * {@link Refused} if there is nothing to roll back to.
   */
  public Future<Deployment> rollback(String service, String id) {
    return vertx.executeBlocking(() -> {
      ServiceRow svc = ledger.service(service).orElseThrow(() -> new Refused(404, "not_found", "No service named " + service));
      String currentId = svc.current() == null ? null : svc.current().id();
      List<DeploymentRow> history = ledger.deployments(service);
      DeploymentRow target;
      if (id != null) {
        target = history.stream().filter(d -> d.id().equals(id)).findFirst()
            .orElseThrow(() -> new Refused(404, "not_found", "No deployment " + id + " of service " + service));
        if (id.equals(currentId)) throw new Refused(409, "conflict", "Deployment " + id + " is already serving " + service);
        if (!servedBefore(target)) {
          throw new Refused(409, "conflict", "Deployment " + id + " is " + target.state()
              + ": only a deployment that served before (now stopped) can be rolled back to");
        }
      } else {
        // older than what serves, or, when it crashed, than what crashed
        String pivot = currentId != null ? currentId : history.stream().filter(d -> "crashed".equals(d.state()))
            .map(DeploymentRow::id).findFirst().orElse(null);
        target = history.stream()
            .filter(Reactivator::servedBefore)
            .filter(d -> pivot == null || d.id().compareTo(pivot) < 0)
            .findFirst()
            .orElseThrow(() -> new Refused(409, "conflict", "Nothing to roll back to: " + service
                + " has no stopped deployment older than " + (pivot == null ? "now" : pivot)));
      }
      target = stoppedOrRefused(target);
      Optional<String> missing = missingArtifact(target);
      if (missing.isPresent()) throw new Refused(409, "conflict", missing.get());
      return activate(target);
    }, false);
  }

  /**
   * Starts a crashed service again: re-activates its newest deployment if that one crashed.
   * Completes with the deployment, now {@code built}.
   */
  public Future<Deployment> restart(String service) {
    return vertx.executeBlocking(() -> {
      ServiceRow svc = ledger.service(service).orElseThrow(() -> new Refused(404, "not_found", "No service named " + service));
      DeploymentRow latest = svc.latest();
      if (latest == null || !"crashed".equals(latest.state())) {
        throw new Refused(409, "conflict", "Service " + service + " has not crashed (its latest deployment is "
            + (latest == null ? "none" : latest.state()) + "): redeploy or roll back instead");
      }
      Optional<String> missing = missingArtifact(latest);
      if (missing.isPresent()) throw new Refused(409, "conflict", missing.get());
      return activate(latest);
    }, false);
  }

  /**
   * Activates the artifact of {@code service}'s current deployment again, as a new deployment and
   * without a rebuild, because what it is given changed ({@code why}: its secrets): built → loaded →
   * deployed like any other, so it takes traffic once ready and the current one is drained. With
   * no current deployment, a latest one that failed at load (a secret that was missing) is tried
   * again the same way. Completes with the new deployment ({@code built}), or null if there is
   * nothing to restart.
   */
  public Future<Deployment> refresh(String service, String why) {
    return vertx.executeBlocking(() -> {
      ServiceRow svc = settled(service);
      if (svc == null) return null;
      DeploymentRow from = svc.current();
      DeploymentRow latest = svc.latest();
      if (from == null && latest != null && "error".equals(latest.state()) && "load".equals(latest.errorStage())) {
        from = latest;
      }
      if (from == null || missingArtifact(from).isPresent()) return null;
      String id = Deployment.newId();
      Artifact artifact = from.artifact();
      java.nio.file.Path jar = dataDir.artifact(service, id);
      // its own copy (a hard link), so retention counts it like any deployment's
      Files.createDirectories(jar.getParent());
      try {
        Files.createLink(jar, artifact.jar());
      } catch (java.io.IOException | UnsupportedOperationException e) {
        Files.copy(artifact.jar(), jar);
        Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
      }
      java.time.Instant now = Deployment.now();
      DeploymentState.Built built = new DeploymentState.Built(artifact.at(jar));
      Deployment d = new Deployment(id, service, now, now, built, built.artifact(), Map.of(built.name(), now));
      transitions.publish(d);
      new dev.ferry.deployment.DeploymentLog(vertx).info(id, "restart", "The artifact of " + from.id()
          + " again, not rebuilt: " + why);
      vertx.eventBus().send(Addresses.LOAD, d);
      log.info("Restarting {} as {} from the artifact of {}: {}", service, id, from.id(), why);
      return d;
    }, false);
  }

  /**
   * {@code service} once its newest deployment is no longer on its way: one on its way (the refresh a
   * moment ago, say) read what it is given as it was then, so a refresh waits for it and then
   * refreshes what it became. Waits on this worker thread, bounded.
   */
  private ServiceRow settled(String service) throws InterruptedException {
    long deadline = System.nanoTime() + SETTLE_WAIT.toNanos();
    while (true) {
      ServiceRow svc = ledger.service(service).orElse(null);
      String state = svc == null ? null : svc.latest().state();
      if (!"queued".equals(state) && !"built".equals(state) && !"loaded".equals(state) || System.nanoTime() > deadline) return svc;
      Thread.sleep(20);
    }
  }

  /** Stopped, crashed, or replaced and still draining (deployed, not current): it served and can serve again. */
  private static boolean servedBefore(DeploymentRow d) {
    String state = d.state();
    return "stopped".equals(state) || "crashed".equals(state) || "deployed".equals(state) && d.timeline().containsKey("deployed");
  }

  /**
   * {@code row} once it is stopped: a deployment replaced a moment ago is still draining its
   * requests, and the rollback waits for that (on this worker thread, bounded) rather than skip it.
   */
  private DeploymentRow stoppedOrRefused(DeploymentRow row) throws InterruptedException {
    String id = row.id();
    long deadline = System.nanoTime() + DRAIN_WAIT.toNanos();
    while (!"stopped".equals(row.state()) && !"crashed".equals(row.state())) {
      if (System.nanoTime() > deadline) {
        throw new Refused(409, "conflict", "Deployment " + id + " is still " + row.state() + "; try again when it has stopped");
      }
      Thread.sleep(20);
      row = ledger.deployment(id).orElseThrow();
    }
    return row;
  }

  /** Publishes {@code row} reactivated ({@code built}) and sends it to the loader. */
  private Deployment activate(DeploymentRow row) {
    Deployment d = transitions.publish(row.deployment(new DeploymentState.Stopped()).reactivated());
    vertx.eventBus().send(Addresses.LOAD, d);
    return d;
  }

  private static Optional<String> missingArtifact(DeploymentRow row) {
    Artifact artifact = row.artifact();
    if (artifact == null) return Optional.of("Deployment " + row.id() + " has no artifact");
    if (!Files.isRegularFile(artifact.jar())) {
      return Optional.of("The artifact of deployment " + row.id() + " is gone (" + artifact.jar()
          + "): it was removed by retention or by hand");
    }
    return Optional.empty();
  }
}
