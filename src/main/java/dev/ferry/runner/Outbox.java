package dev.ferry.runner;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the runner sends its control plane: replies and events, queued and written by one sender
 * thread; while none is connected, recent log lines are kept for the next one.
 */
final class Outbox {

  private static final int OUTBOX = 10_000;
  private static final int BACKLOG = 1_000;

  private final BlockingQueue<JsonObject> outbox = new ArrayBlockingQueue<>(OUTBOX);
  private final AtomicLong dropped = new AtomicLong();
  /** The control plane's connection, once it said hello; null while none is connected. */
  volatile SocketChannel current;

  void line(String deployment, String level, String stage, String message) {
    event(new JsonObject().put("ev", "log").put("deployment", deployment).put("level", level).put("stage", stage).put("message", message));
  }

  /** Queues an event; when the control plane reads too slowly, events are dropped (and counted). */
  void event(JsonObject e) {
    if (!outbox.offer(e)) dropped.incrementAndGet();
  }

  void reply(JsonObject request, JsonObject answer) {
    answer.put("re", request.getValue("id"));
    try {
      outbox.put(answer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The sender thread: writes queued frames to the connected control plane; keeps recent log lines while none is. */
  void send() {
    ArrayDeque<JsonObject> backlog = new ArrayDeque<>();
    while (true) {
      JsonObject frame;
      try {
        frame = outbox.take();
      } catch (InterruptedException e) {
        return;
      }
      long lost = dropped.getAndSet(0);
      SocketChannel ch = current;
      if (ch == null) {
        if (!frame.containsKey("re")) {
          if (backlog.size() >= BACKLOG) backlog.poll();
          backlog.add(frame);
        }
        continue;
      }
      try {
        while (!backlog.isEmpty()) Frames.write(ch, backlog.poll());
        if (lost > 0) {
          Frames.write(ch, new JsonObject().put("ev", "log").put("level", "warn").put("stage", "runner")
              .put("message", lost + " lines dropped: the service writes faster than the platform reads"));
        }
        Frames.write(ch, frame);
      } catch (IOException e) {
        Frames.closeQuietly(ch);
      }
    }
  }

  boolean isEmpty() {
    return outbox.isEmpty();
  }
}
