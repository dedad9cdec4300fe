package dev.ferry.deployment;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The one writer of the ledger: consumes {@code ferry.events} and {@code ferry.log} and writes each
 * on one worker thread, in the order they arrived (the ledger blocks; event loops must not). Others
 * may wait, with {@code ferry.ledger.recorded}, until a deployment's row is written, so an API answer
 * about it can be followed by a read that finds it.
 */
public final class Recorder extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Recorder.class);

  private final LedgerWriter ledger;
  private final LedgerReader reader;
  private final Map<String, List<Waiter>> waiting = new ConcurrentHashMap<>();
  private WorkerExecutor writer;

  /** Someone waiting for deployment {@code id}'s row to satisfy {@code written}. */
  private record Waiter(Predicate<DeploymentRow> written, Promise<Void> promise) {
  }

  /** {@code ledger}: what writes, handed to this recorder alone; {@code reader}: what reads the same ledger. */
  public Recorder(LedgerWriter ledger, LedgerReader reader) {
    this.ledger = ledger;
    this.reader = reader;
  }

  @Override
  public Future<?> start() {
    // one thread, and ordered tasks from this verticle's context: writes land in event order
    writer = vertx.createSharedWorkerExecutor("ferry-ledger", 1, 1, TimeUnit.MINUTES);
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, msg -> record(msg.body())).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.LOG, msg -> appendLog(msg.body())).completion(),
        // a deployment (recorded once its row is as new as it), or a deployment's id (once it has a row)
        vertx.eventBus().<Object>consumer(Addresses.RECORDED, msg -> (msg.body() instanceof Deployment d ? recorded(d) : recorded((String) msg.body()))
            .onSuccess(v -> msg.reply(null)).onFailure(e -> msg.fail(0, String.valueOf(e.getMessage())))).completion(),
        // writes are ordered on one thread: a no-op queued now runs after every write queued before it
        vertx.eventBus().consumer(Addresses.FLUSH, msg -> writer.executeBlocking(() -> null, true)
            .onComplete(ar -> msg.reply(null))).completion());
  }

  @Override
  public Future<?> stop() {
    // writes already queued run before the executor closes
    return writer.executeBlocking(() -> null, true).eventually(writer::close);
  }

  private void appendLog(JsonObject line) {
    writer.executeBlocking(() -> {
      ledger.append(LogLine.fromJson(line));
      return null;
    }, true).onFailure(e -> log.error("Could not store log line {}", line.encode(), e));
  }

  private void record(JsonObject event) {
    String id = event.getString("id");
    writer.executeBlocking(() -> {
      // an event without a deployment is a service's: it was deleted
      if (id == null) {
        ledger.deleted(event.getString("service"), Instant.parse(event.getString("updatedAt")));
        return null;
      }
      DeploymentRow row = DeploymentRow.fromJson(event);
      ledger.record(row);
      return row;
    }, true).onComplete(ar -> {
      if (ar.failed()) log.error("Could not record {}", event.encode(), ar.cause());
      List<Waiter> ws = id == null ? null : waiting.get(id);
      if (ws == null) return;
      for (Waiter w : ws) {
        if (ar.failed()) w.promise().tryFail(ar.cause());
        else if (w.written().test(ar.result())) w.promise().tryComplete();
        if (w.promise().future().isComplete()) ws.remove(w);
      }
      waiting.remove(id, List.of());
    });
  }

  /** Completes once deployment {@code id} is in the ledger; fails if writing it failed. */
  public Future<Void> recorded(String id) {
    return recorded(id, row -> true);
  }

  /** Completes once {@code d}, as it is now or as a later state, is in the ledger; fails if writing it failed. */
  public Future<Void> recorded(Deployment d) {
    // the ledger keeps milliseconds
    Instant at = d.updatedAt().truncatedTo(ChronoUnit.MILLIS);
    return recorded(d.id(), row -> !row.updatedAt().isBefore(at));
  }

  private Future<Void> recorded(String id, Predicate<DeploymentRow> written) {
    Promise<Void> p = Promise.promise();
    waiting.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(new Waiter(written, p));
    // it may have been written before we registered: look, on the writer (off the event loop)
    writer.executeBlocking(() -> reader.deployment(id).filter(written).isPresent(), false)
        .onSuccess(found -> {
          if (found) p.tryComplete();
        });
    return p.future().onComplete(x -> {
      List<Waiter> ws = waiting.get(id);
      if (ws != null) {
        ws.removeIf(w -> w.promise() == p);
        waiting.remove(id, List.of());
      }
    });
  }

  /** What reads the ledger this recorder writes. */
  public LedgerReader reader() {
    return reader;
  }
}
