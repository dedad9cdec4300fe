package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.net.InetSocketAddress;

/**
 * A client's connection to the proxy. Reads each request's head (routing is per request, by its
 * Host), answers itself when it cannot route (400, 404, 503), else sends the head with the
 * forwarded headers to a connection to the service's backend, then the body as it comes; the
 * response flows back through {@link Outbound}. One request at a time: a pipelined next request
 * waits in {@link #pending} until the response before it is done. A protocol switch (WebSocket)
 * turns the connection into a tunnel.
 */
final class Inbound extends ClientConnection {

  Inbound(Lane lane) {
    super(lane);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    if (channel.remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) client = a.getAddress().getHostAddress();
    trusted = lane.proxy().guard().trusted(client);
    release = lane.proxy().guard().admit(client);
    if (release == null) {
      closing = true;
      ctx.close();
      return;
    }
    headSince = System.nanoTime();
    lane.clients.add(this);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    Exchange e = exchange;
    if (closing) {
      buf.release();
      return;
    }
    if (e != null && e.tunnel) {
      e.send(buf);
      return;
    }
    if (e == null && !held && headSince == 0 && buf.isReadable()) {
      // the first bytes of the next request start its head's clock
      headSince = System.nanoTime();
      quietSince = 0;
    }
    if (e != null && !e.requestDone) {
      try {
        buf = e.body(buf);
      } catch (Http1.Malformed m) {
        // the body's framing is broken: nothing more can be trusted on either connection
        ctx.close();
        return;
      }
      if (buf == null) return;
    }
    pending = pending == null ? buf : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), pending, buf);
    if (exchange == null && !held) {
      process();
    } else if (pending.readableBytes() > Http1.MAX_HEAD) {
      // a client pipelining far ahead waits until it is caught up with
      channel.config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    if (e != null && e.out != null) e.out.channel().flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    if (e != null && e.out != null && ctx.channel().isWritable()) e.out.pause(false);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    lane.clients.remove(this);
    if (release != null) release.run();
    if (pending != null) {
      pending.release();
      pending = null;
    }
    Exchange e = exchange;
    exchange = null;
    if (e != null) {
      // the client went away mid-exchange: the backend's connection cannot be reused
      if (e.out != null) e.out.channel().close();
      e.finish(lane.meters(), e.responseStarted ? e.status : 499);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  // ---- requests ----------------------------------------------------------------------------------

  /** Handles the requests in {@link #pending}, one at a time. */
  private void process() {
    while (exchange == null && !held && !closing && pending != null && pending.isReadable()) {
      Http1.RequestHead h;
      try {
        h = Http1.request(pending, lane.scratch);
      } catch (Http1.Malformed m) {
        answer(null, m.status, "bad_request", m.getMessage(), null);
        return;
      }
      if (h == null) break;
      headSince = 0;
      route(h);
    }
    if (pending != null && !pending.isReadable()) {
      pending.release();
      pending = null;
    }
    if (exchange == null && !held && !closing) {
      long now = System.nanoTime();
      if (pending != null) {
        if (headSince == 0) headSince = now;
      } else if (quietSince == 0) {
        quietSince = now;
      }
    }
    if (exchange == null && !held && !closing && !channel.config().isAutoRead()) channel.config().setAutoRead(true);
  }

  private void route(Http1.RequestHead h) {
    String suffix = lane.proxy().domainSuffix();
    if (h.host == null) {
      answer(h, 400, "bad_request", "No Host header: address a service as <service>" + suffix, null);
      return;
    }
    String service = serviceOf(h.host);
    if (service == null) {
      answer(h, 400, "bad_request", "Host " + hostOnly(h.host) + " is not <service>" + suffix, null);
      return;
    }
    Routes.Backend b = lane.proxy().routes().get(service);
    if (b != null) {
      start(h, service, b);
      return;
    }
    // on its way (restored after a restart, restarted after a crash, woken from sleep) or down: never "no such service"
    held = true;
    lane.proxy().routes().await(service, lane.proxy().waitMs(), channel.eventLoop()).onComplete(ar -> {
      held = false;
      if (!channel.isActive() || pending == null) return;
      if (ar.succeeded() && ar.result() != null) {
        start(h, service, ar.result());
      } else if (ar.failed()) {
        answer(h, 503, "unavailable", ar.cause().getMessage(), "5");
      } else {
        answer(h, 404, "not_found", "No service named " + service + " is deployed", null);
      }
      process();
    });
  }

  /** Sends the request to {@code backend}: the head with the forwarded headers, then the body. */
  private void start(Http1.RequestHead h, String service, Routes.Backend backend) {
    Exchange e = new Exchange(this, h, service, backend);
    exchange = e;
    backend.begin(e.started);
    // a kept connection first, so what follows is written to it at once
    Outbound o = lane.idle(backend);
    if (o != null) e.attached(o);
    ByteBuf head = ForwardedHeaders.head(pending, channel.alloc(), h, client, trusted);
    pending.skipBytes(h.length);
    e.replay = head.retainedDuplicate();
    e.send(head);
    if (!e.requestDone && pending.isReadable()) {
      ByteBuf p = pending;
      pending = null;
      try {
        pending = e.body(p);
      } catch (Http1.Malformed m) {
        closing = true;
        e.finish(lane.meters(), 400);
        exchange = null;
        if (e.out != null) e.out.channel().close();
        channel.close();
        return;
      }
    }
    if (o != null) o.channel().flush();
    else lane.connect(e);
  }

  // ---- responses ---------------------------------------------------------------------------------

  /** Passes response bytes on to the client (flushed when the backend's read is done). */
  void toClient(ByteBuf b) {
    channel.write(b, channel.voidPromise());
    Exchange e = exchange;
    if (!channel.isWritable() && e != null && e.out != null) e.out.pause(true);
  }

  /** The response to {@code e} is all out: the backend's connection goes back to the pool (or closes), the next request may go. */
  void responseDone(Exchange e, Outbound o, boolean reusable) {
    if (e != exchange) {
      o.channel().close();
      return;
    }
    exchange = null;
    e.finish(lane.meters(), e.status);
    if (reusable) lane.release(e, o);
    else o.channel().close();
    // a response before the whole request arrived leaves the rest of its body unread: this connection cannot go on
    if (!e.requestDone || e.head.close || e.responseClose) {
      closing = true;
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    channel.flush();
    process();
  }

  /** The backend failed {@code e} ({@code why}): sent once more on a fresh connection, else 502, or the client's connection closes. */
  void backendFailed(Exchange e, Outbound o, String why) {
    if (o != null) o.channel().close();
    if (e != exchange) return;
    if (o != null && o.reused && e.retry()) {
      lane.connect(e);
      return;
    }
    exchange = null;
    if (e.responseStarted) {
      e.finish(lane.meters(), e.status);
      closing = true;
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    e.finish(lane.meters(), 502);
    reply(e.head, 502, "bad_gateway", "Service " + e.service + " failed to answer: " + why, null, !e.requestDone);
    if (!closing) process();
  }

  /** {@code e} got nothing from its service for {@code proxy.timeoutMs}: 504 if nothing went back yet, else the connection closes. */
  void timedOut(Exchange e, long timeoutMs) {
    if (e != exchange) return;
    exchange = null;
    if (e.out != null) e.out.channel().close();
    if (e.responseStarted) {
      e.finish(lane.meters(), e.status);
      closing = true;
      channel.close();
      return;
    }
    Proxy.log.warn("Service {} did not answer {} within {} ms (proxy.timeoutMs); answered 504. Is a handler blocking its thread?",
        e.service, e.requestLine(), timeoutMs);
    e.finish(lane.meters(), 504);
    reply(e.head, 504, "gateway_timeout", "Service " + e.service + " did not answer within " + timeoutMs + " ms", null, !e.requestDone);
    if (!closing) process();
  }

  /** The service switched protocols: whatever the client sent after its request goes through too. */
  void upgraded(Exchange e) {
    // a WebSocket may stay quiet: it is no idle HTTP connection
    headSince = 0;
    quietSince = 0;
    if (pending != null) {
      ByteBuf p = pending;
      pending = null;
      e.send(p);
    }
    e.out.channel().flush();
    channel.flush();
  }

  /** The backend's side of a tunnel closed: so does the client's. */
  void tunnelClosed(Exchange e) {
    if (e == exchange) {
      exchange = null;
      e.finish(lane.meters(), 101);
    }
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }
}
