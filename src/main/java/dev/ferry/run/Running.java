package dev.ferry.run;

import dev.ferry.deployment.Artifact;
import dev.ferry.deployment.Deployment;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A deployment that has a runner: starting (not yet routed) or serving. Only touched on the runtime's context. */
final class Running {
  Deployment deployment;
  final Artifact artifact;
  int port;
  Runner runner;
  boolean stopping;
  boolean serving;
  boolean restarting;
  /** Put to sleep (or being put to sleep): no runner, its port kept, woken by a request. */
  boolean asleep;
  boolean waking;
  /** Completes once it is all the way asleep (its runner gone). */
  Future<Void> sleeping = Future.succeededFuture();
  Promise<Void> bound;
  /** What it declared ({@code ferry.postgres}, {@code ferry.secrets}) for its config; provided again at a restart. */
  JsonObject resources = new JsonObject();
  final java.util.ArrayDeque<Instant> crashTimes = new java.util.ArrayDeque<>();
  final List<String> causes = new ArrayList<>();

  Running(Deployment deployment, Artifact artifact, int port, Runner runner) {
    this.deployment = deployment;
    this.artifact = artifact;
    this.port = port;
    this.runner = runner;
  }
}
