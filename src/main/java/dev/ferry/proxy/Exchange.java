package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;

/**
 * One request on its way through the proxy and its response on the way back: the client's
 * connection, the backend it was routed to and the connection to it, how much of the request body
 * is still to come, and what went back to the client so far. Lives on its lane's event loop.
 */
final class Exchange {

  final Inbound in;
  final Http1.RequestHead head;
  final String service;
  final Routes.Backend backend;
  final long started = System.nanoTime();
  /** The connection to the backend, once there is one. */
  Outbound out;
  /** What goes to the backend before it is connected, in order (made when needed). */
  private ArrayDeque<ByteBuf> unsent;
  /** The head as sent, kept until the answer starts: sent again once (no body) if a reused connection turns out closed. */
  ByteBuf replay;
  boolean retried;
  private long bodyLeft;
  private Chunked chunks;
  /** The whole request went (or is queued) to the backend. */
  boolean requestDone;
  /** Some of the response went to the client: it can no longer be answered by the proxy. */
  boolean responseStarted;
  /** The backend will close after this response, or sent it without length: the client's connection closes after it too. */
  boolean responseClose;
  int status;
  /** When the backend last sent something, or the client sent more of the request: for {@code proxy.timeoutMs}. */
  long lastActivity = started;
  /** Switched protocols (101): bytes pass both ways until either side closes. */
  boolean tunnel;
  boolean finished;

  Exchange(Inbound in, Http1.RequestHead head, String service, Routes.Backend backend) {
    this.in = in;
    this.head = head;
    this.service = service;
    this.backend = backend;
    if (head.chunked) chunks = new Chunked();
    else bodyLeft = Math.max(0, head.contentLength);
    requestDone = !head.hasBody();
  }

  /**
   * Forwards the part of {@code buf} that belongs to the request body (taking {@code buf});
   * returns what follows the body's end (the next request, owned by the caller), or null.
   */
  ByteBuf body(ByteBuf buf) throws Http1.Malformed {
    int from = buf.readerIndex(), to = buf.writerIndex(), end;
    if (chunks != null) {
      end = chunks.scan(buf, from, to);
    } else {
      long n = Math.min(bodyLeft, to - from);
      bodyLeft -= n;
      end = bodyLeft == 0 ? from + (int) n : -1;
    }
    if (end < 0 || end == to) {
      if (end == to) requestDone = true;
      send(buf);
      return null;
    }
    requestDone = true;
    if (end > from) send(buf.readRetainedSlice(end - from));
    return buf;
  }

  /** Writes {@code b} to the backend, or queues it until connected. */
  void send(ByteBuf b) {
    if (out == null) {
      if (unsent == null) unsent = new ArrayDeque<>(4);
      unsent.add(b);
    } else {
      out.channel().write(b, out.channel().voidPromise());
      if (!out.channel().isWritable()) in.channel().config().setAutoRead(false);
      if (!requestDone || tunnel) lastActivity = System.nanoTime();
    }
  }

  /** Goes through {@code o} (a kept connection), before anything is sent. */
  void attached(Outbound o) {
    out = o;
    o.exchange(this);
  }

  /** Now connected to the backend through {@code o}: what was queued goes. */
  void attach(Outbound o) {
    attached(o);
    lastActivity = System.nanoTime();
    ByteBuf b;
    while (unsent != null && (b = unsent.poll()) != null) o.channel().write(b, o.channel().voidPromise());
    o.channel().flush();
  }

  /** Sends the head again on a new connection (once), when a reused one was found closed before any answer. */
  boolean retry() {
    if (retried || replay == null || responseStarted || head.hasBody()) return false;
    retried = true;
    out = null;
    releaseUnsent();
    send(replay.retainedDuplicate());
    return true;
  }

  /** Method and target of the request, for a log line (while the head is kept). */
  String requestLine() {
    if (replay == null) return "a request";
    int sp1 = replay.indexOf(replay.readerIndex(), replay.writerIndex(), (byte) ' ');
    int sp2 = sp1 < 0 ? -1 : replay.indexOf(sp1 + 1, replay.writerIndex(), (byte) ' ');
    return sp2 < 0 ? "a request" : replay.toString(replay.readerIndex(), sp2 - replay.readerIndex(), java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** The response head came: no retry from here on. */
  void responding(int status) {
    this.status = status;
    responseStarted = true;
    if (replay != null) {
      replay.release();
      replay = null;
    }
  }

  /** Ends the exchange once: the backend's in-flight count, the meters. */
  void finish(ProxyMeters meters, int status) {
    if (finished) return;
    finished = true;
    long now = System.nanoTime();
    backend.end(now);
    releaseUnsent();
    if (replay != null) {
      replay.release();
      replay = null;
    }
    meters.record(backend, service, status, now - started);
  }

  private void releaseUnsent() {
    ByteBuf b;
    while (unsent != null && (b = unsent.poll()) != null) b.release();
  }
}
