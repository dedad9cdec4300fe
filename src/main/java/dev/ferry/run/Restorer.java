package dev.ferry.run;

import dev.ferry.DataDir;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState;
import dev.ferry.deployment.DeploymentRow;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.LogLine;
import dev.ferry.deployment.StateName;
import dev.ferry.deployment.Transitions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * After a platform restart, brings back every service the ledger says served when the platform
 * stopped. Such a deployment never stopped, so it keeps its id: it is adopted where its runner
 * still serves it, or sleeps until its first request, or (with {@code run.idleTimeoutMs} 0) is
 * resumed from its stored artifact at {@code built} and sent to the loader. Deployments caught
 * mid-way fail, unless they served before and were on their way back (a restore cut short by
 * another kill): those are restored again. Reads the ledger on a worker thread; writes only
 * through {@code ferry.events}.
 */
public final class Restorer {

  private static final Logger log = LoggerFactory.getLogger(Restorer.class);
  /** The message of a deployment that was mid-way when the platform stopped. */
  public static final String INTERRUPTED = "interrupted by restart";

  private final Vertx vertx;
  private final LedgerReader ledger;
  private final Transitions transitions;
  private final DataDir dataDir;

  public Restorer(Vertx vertx, LedgerReader ledger, Transitions transitions, DataDir dataDir) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.transitions = transitions;
    this.dataDir = dataDir;
  }

  /**
   * Marks deployments caught mid-way as failed; adopts each service's current deployment where its
   * runner still serves it (nothing restarts); one that slept stays asleep, and one whose runner is
   * gone is put to sleep, to start on its first request (or, with {@code run.idleTimeoutMs} 0, is
   * sent to the loader again at once). Completes with the number of services restored.
   */
  public Future<Integer> restore(ServiceRuntime runtime) {
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> {
      List<DeploymentRow> live = new ArrayList<>(ledger.inState(StateName.LIVE));
      for (DeploymentRow row : ledger.inState(StateName.IN_PROGRESS)) {
        // one that served before was on its way back (a restore the kill cut short): it still serves its service
        if (row.timeline().containsKey(StateName.DEPLOYED.wire())) live.add(row);
        else interrupt(row);
      }
      List<DeploymentRow> currents = new ArrayList<>();
      for (List<DeploymentRow> rows : byService(live).values()) {
        for (DeploymentRow older : rows.subList(1, rows.size())) {
          transitions.publish(older.deployment(serving(older)), new DeploymentState.Stopped());
        }
        DeploymentRow current = rows.get(0);
        Optional<String> missing = Reactivator.missingArtifact(current);
        if (missing.isPresent()) {
          DeploymentState.InProgress resumed = resumed(current);
          transitions.publish(current.deployment(resumed), resumed.failed("restart", missing.get()));
          continue;
        }
        // checked now, not at its first request: a service restored asleep is loaded only then
        Optional<String> changed = Staging.changed(current.artifact().jar(), current.artifact().jar(), current.id(), current.artifact().sha256());
        if (changed.isPresent()) {
          DeploymentState.InProgress resumed = resumed(current);
          transitions.publish(current.deployment(resumed), resumed.failed("load", changed.get()));
          continue;
        }
        // crashes before the restart still count: a restart is no way out of a crash loop
        List<LogLine> crashes = recentCrashes(current.id());
        if (crashes.size() >= Crashes.LIMIT) {
          crashedBeforeRestart(runtime, current, crashes);
          continue;
        }
        runtime.rememberCrashes(current.id(), crashes.stream().map(LogLine::ts).toList(),
            crashes.stream().map(Restorer::cause).toList());
        currents.add(current);
      }
      log.debug("Read {} services to restore from the ledger in {} ms", currents.size(), (System.nanoTime() - t0) / 1_000_000);
      return currents;
    }, false).compose(currents -> runtime.adopt(currents).map(rest -> {
      // nothing serves them and they are not to sleep: their stored artifacts are loaded again, under their own ids
      rest.forEach(row -> vertx.eventBus().send(Addresses.LOAD, row.deployment(resumed(row))));
      if (!currents.isEmpty()) {
        log.info("Restoring {} services: {} adopted or asleep until their first request, {} started again from their stored artifacts ({} ms)",
            currents.size(), currents.size() - rest.size(), rest.size(), (System.nanoTime() - t0) / 1_000_000);
      }
      return currents.size();
    }));
  }

  /**
   * Right after a platform restart, before the proxy listens: routes each service the ledger says is
   * deployed (not asleep) to its port, if something listens there. That is a runner which outlived
   * the last platform (on a port of {@code run.portRange}, where nothing else binds); the restore then
   * finds it, confirms it or takes the route back (see {@link ServiceRuntime#adopt}). What listens is
   * read from the kernel's socket tables in one go ({@code /proc/net/tcp}, {@code tcp6}): 101
   * loopback connects, one after another, took 0.3 s of a restart on two cores. Where there are no
   * such tables (not Linux), nothing is routed early. Returns how many it routed.
   */
  public static int routeLive(dev.ferry.proxy.Routes routes, List<DeploymentRow> live) {
    long t0 = System.nanoTime();
    List<DeploymentRow> serving = byService(live).values().stream().map(rows -> rows.get(0))
        .filter(r -> StateName.DEPLOYED.is(r.state()) && r.port() != null).toList();
    if (serving.isEmpty()) return 0;
    Set<Integer> listening = listeningPorts(Path.of("/proc/net"));
    int routed = 0;
    for (DeploymentRow row : serving) {
      if (!listening.contains(row.port())) continue;
      routes.compute(row.service(), current -> current == null ? new dev.ferry.proxy.Routes.Backend(row.id(), row.port()) : current);
      routed++;
    }
    log.debug("Routed {} of {} services early in {} ms", routed, serving.size(), (System.nanoTime() - t0) / 1_000_000);
    return routed;
  }

  /** TCP state LISTEN in {@code /proc/net/tcp}'s {@code st} column. */
  private static final String LISTEN = "0A";

  /**
   * The TCP ports something listens on, from {@code dir}'s {@code tcp} and {@code tcp6} (lines
   * {@code sl local_address rem_address st ...}, addresses as {@code HEXADDR:HEXPORT}); empty where
   * neither can be read.
   */
  static Set<Integer> listeningPorts(Path dir) {
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("tcp", "tcp6")) {
      try (var lines = Files.lines(dir.resolve(table))) {
        lines.skip(1).forEach(line -> {
          // the first four fields, by hand: a table holds a line per socket (thousands, in TIME_WAIT after a busy hour)
          int i = 0, localEnd = 0, portStart = 0;
          for (int field = 0; field < 4; field++) {
            while (i < line.length() && line.charAt(i) == ' ') i++;
            int start = i;
            while (i < line.length() && line.charAt(i) != ' ') i++;
            if (field == 1) {
              localEnd = i;
              portStart = line.lastIndexOf(':', i) + 1;
            } else if (field == 3 && i - start == LISTEN.length() && line.startsWith(LISTEN, start)) {
              ports.add(Integer.parseInt(line, portStart, localEnd, 16));
            }
          }
        });
      } catch (java.io.IOException | RuntimeException unreadable) {
        // not Linux, or no IPv6: what the other table says
      }
    }
    return ports;
  }

  /**
   * {@code live} rows by service, each service's current one first: the one that went live last (a
   * kill mid-swap may leave an older one marked deployed).
   */
  private static Map<String, List<DeploymentRow>> byService(List<DeploymentRow> live) {
    Map<String, List<DeploymentRow>> out = new LinkedHashMap<>();
    for (DeploymentRow row : live) out.computeIfAbsent(row.service(), s -> new ArrayList<>()).add(row);
    Comparator<DeploymentRow> wentLive = Comparator.comparing(r -> r.timeline().getOrDefault(StateName.DEPLOYED.wire(), Instant.MIN));
    out.values().forEach(rows -> rows.sort(wentLive.reversed()));
    return out;
  }

  /** A row of a deployment that serves (or sleeps) in the state it is in. */
  private static DeploymentState serving(DeploymentRow row) {
    int port = row.port() == null ? 0 : row.port();
    return StateName.SLEEPING.is(row.state()) ? new DeploymentState.Sleeping(port) : new DeploymentState.Deployed(port);
  }

  /** A row taken up again from what is stored of it: its artifact ({@code built}), or its upload if it has none. */
  private DeploymentState.InProgress resumed(DeploymentRow row) {
    return row.artifact() == null ? new DeploymentState.Queued(dataDir.upload(row.id())) : new DeploymentState.Built(row.artifact());
  }

  /** The deployment's crashes within {@link Crashes#WINDOW}, from its log in the ledger, oldest first. */
  private List<LogLine> recentCrashes(String id) {
    Instant since = Instant.now().minus(Crashes.WINDOW);
    List<LogLine> out = new ArrayList<>();
    // its crash lines only: a deployment that served long keeps many lines (one more at every restart)
    for (LogLine line : ledger.logs(id, "crash")) {
      if (line.message().startsWith(Crashes.CRASHED) && line.ts().isAfter(since)) out.add(line);
    }
    return out;
  }

  private static String cause(LogLine crashLine) {
    return crashLine.message().substring(Crashes.CRASHED.length());
  }

  /** {@code row} crashed its limit within the window before the restart: it starts crashed, not again. */
  private void crashedBeforeRestart(ServiceRuntime runtime, DeploymentRow row, List<LogLine> crashes) {
    List<String> causes = crashes.subList(crashes.size() - Crashes.LIMIT, crashes.size()).stream().map(Restorer::cause).toList();
    DeploymentState was = serving(row);
    String service = row.service();
    String why = "Service " + service + " crashed " + crashes.size() + " times within " + Crashes.WINDOW.toMinutes()
        + " minutes before the platform restarted and is not started again; redeploy it, roll it back or restart it. Last: "
        + causes.get(causes.size() - 1);
    new DeploymentLog(vertx).error(row.id(), "crash", why);
    transitions.publish(row.deployment(was), new DeploymentState.Crashed(causes));
    runtime.routes().down(service, why);
    log.warn("{}", why);
  }

  private void interrupt(DeploymentRow row) {
    DeploymentState.InProgress from = resumed(row);
    String stage = switch (StateName.of(row.state())) {
      case QUEUED -> "build";
      case BUILT -> "load";
      default -> "deploy";
    };
    try {
      Files.deleteIfExists(dataDir.upload(row.id()));
    } catch (java.io.IOException e) {
      log.warn("Could not delete the upload of {}", row.id(), e);
    }
    transitions.publish(row.deployment(from), from.failed(stage, INTERRUPTED));
  }
}
