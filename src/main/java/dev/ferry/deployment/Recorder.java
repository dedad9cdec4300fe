package dev.ferry.deployment;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The one writer of the ledger: consumes {@code ferry.events} and records every transition. Others
 * may wait, with {@link #recorded(String)}, until a deployment is in the ledger (so an API answer
 * about it can be followed by a read that finds it).
 */
public final class Recorder extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(Recorder.class);

  private final Ledger ledger;
  private final Map<String, List<Promise<Void>>> waiting = new ConcurrentHashMap<>();

  public Recorder(Ledger ledger) {
    this.ledger = ledger;
  }

  @Override
  public Future<?> start() {
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, msg -> record(msg.body())).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.LOG, msg -> appendLog(msg.body())).completion());
  }

  private void appendLog(JsonObject line) {
    try {
      ledger.appendLog(line);
    } catch (RuntimeException e) {
      log.error("Could not store log line {}", line.encode(), e);
    }
  }

  private void record(JsonObject event) {
    try {
      ledger.record(event);
    } catch (RuntimeException e) {
      log.error("Could not record {}", event.encode(), e);
    }
    String id = event.getString("id");
    if (id != null) {
      List<Promise<Void>> ps = waiting.remove(id);
      if (ps != null) ps.forEach(Promise::tryComplete);
    }
  }

  /** Completes once deployment {@code id} is in the ledger. */
  public Future<Void> recorded(String id) {
    Promise<Void> p = Promise.promise();
    waiting.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(p);
    // it may have been recorded before we registered
    if (ledger.deployment(id).isPresent()) {
      waiting.remove(id);
      p.tryComplete();
    }
    return p.future();
  }

  public Ledger ledger() {
    return ledger;
  }
}
