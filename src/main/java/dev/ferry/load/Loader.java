package dev.ferry.load;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentLog;
import dev.ferry.deployment.DeploymentState.Built;
import dev.ferry.deployment.StageException;
import dev.ferry.deployment.Transitions;
import dev.ferry.run.Runner;
import dev.ferry.run.Runners;
import dev.ferry.resources.Resources;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Consumes {@code ferry.load}: checks a built deployment's bytecode against the
 * {@link BytecodePolicy} (here, reading class files: no service code runs in the control plane),
 * then gives it a runner, which opens the artifact in a classloader of its own and finds the entry
 * verticle without initialising any class.
 */
public final class Loader extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Loader.class);

  private final Transitions transitions;
  private final DeploymentLog deploymentLog;
  private final BytecodePolicy policy;
  /** The sha256 of artifacts that passed the policy (at most {@link #PASSED_KEPT}). */
  private final java.util.Set<String> passed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private static final int PASSED_KEPT = 10_000;
  private final Runners runners;
  private final Resources resources;
  private final long timeoutMs;

  public Loader(Transitions transitions, DeploymentLog deploymentLog, BytecodePolicy policy, Runners runners, Resources resources,
                long timeoutMs) {
    this.resources = resources;
    this.transitions = transitions;
    this.deploymentLog = deploymentLog;
    this.policy = policy;
    this.runners = runners;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<Deployment>consumer(Addresses.LOAD, this::onBuilt).completion();
  }

  private void onBuilt(Message<Deployment> msg) {
    Deployment d = msg.body();
    if (!(d.state() instanceof Built built)) {
      log.error("Loader got {} in state {}", d.id(), d.state().name());
      return;
    }
    // the service's own classes: libraries it bundles (FreeMarker has Runtime.exec) are the author's choice
    String sha = built.artifact().sha256();
    // an artifact that passed once (a rollback, a restart, a wake) is not read again: the runner's
    // staging checks that the jar still has that sha256 before any of it loads
    Future<Void> checked = sha != null && passed.contains(sha) ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      policy.check(List.of(built.artifact().jar()));
      if (sha != null) {
        if (passed.size() >= PASSED_KEPT) passed.clear();
        passed.add(sha);
      }
      return null;
    }, false);
    checked
        .compose(x -> runners.acquire(built.artifact().settings()))
        .compose(runner -> runner.load(d.id(), d.service(), built.artifact(), timeoutMs)
            // what the entry declares (@Postgres, @Secret): provisioned now, handed over in its config
            .compose(entry -> vertx.executeBlocking(() -> new Loaded(runner, entry, resources.provide(d.service(), d.id(),
                built.artifact().jar(), entry, line -> deploymentLog.info(d.id(), "resources", line))), false))
            .onFailure(e -> runners.release(runner, 1_000)))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            Runner runner = ar.result().runner();
            deploymentLog.info(d.id(), "load", "Entry verticle: " + ar.result().entry() + ", loaded in " + runner);
            Deployment loaded = transitions.publish(d, built.loaded(runner.id(), ar.result().entry(), ar.result().resources()));
            vertx.eventBus().send(Addresses.RUN, loaded);
          } else {
            Throwable e = ar.cause();
            boolean expected = e instanceof StageException || e instanceof Runner.Refused;
            if (!expected) log.error("Load of {} failed unexpectedly", d.id(), e);
            deploymentLog.error(d.id(), "load", String.valueOf(e.getMessage()));
            transitions.publish(d, built.failed("load", expected ? e.getMessage() : "Internal load failure: " + e));
          }
        });
  }

  private record Loaded(Runner runner, String entry, io.vertx.core.json.JsonObject resources) {
  }
}
