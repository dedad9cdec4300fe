package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * A connection from the proxy to one backend (a deployment's port), kept open between requests:
 * reads the response to the current exchange just far enough to know where it ends, and passes its
 * bytes to the client as they come, unchanged.
 */
final class Outbound extends ChannelInboundHandlerAdapter {

  private static final int HEAD = 0, BODY = 1, TUNNEL = 2;

  final Lane lane;
  final Routes.Backend backend;
  private Channel channel;
  private Exchange exchange;
  /** A response head not all read yet. */
  private ByteBuf partial;
  private int state = HEAD;
  private long left;
  private Chunked chunks;
  private boolean untilClose;
  /** It served an exchange before: a failure before any answer may be a close that raced the reuse. */
  boolean reused;
  long idleSince;

  Outbound(Lane lane, Routes.Backend backend) {
    this.lane = lane;
    this.backend = backend;
  }

  Channel channel() {
    return channel;
  }

  void exchange(Exchange e) {
    exchange = e;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    Exchange e = exchange;
    if (e == null) {
      // nothing was asked: a backend that talks out of turn is not reused
      buf.release();
      ctx.close();
      return;
    }
    e.lastActivity = System.nanoTime();
    if (state == TUNNEL) {
      e.in.toClient(buf);
      return;
    }
    if (partial != null) {
      buf = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), partial, buf);
      partial = null;
    }
    try {
      read(e, buf);
    } catch (Http1.Malformed m) {
      buf.release();
      exchange = null;
      e.in.backendFailed(e, this, m.getMessage());
    }
  }

  /** Reads {@code buf} (taking it): heads, bodies, ends of responses. */
  private void read(Exchange e, ByteBuf buf) throws Http1.Malformed {
    int from = buf.readerIndex();
    while (true) {
      if (state == HEAD) {
        Http1.ResponseHead h = Http1.response(buf, lane.scratch);
        if (h == null) {
          partial = buf;
          return;
        }
        int status = h.status;
        if (status >= 100 && status < 200 && status != 101) {
          // an interim answer (100 Continue): passed on; the real one follows
          e.in.toClient(buf.readRetainedSlice(h.length));
          from = buf.readerIndex();
          if (!buf.isReadable()) {
            buf.release();
            return;
          }
          continue;
        }
        e.responding(status);
        if (status == 101 && e.head.upgrade) {
          state = TUNNEL;
          e.tunnel = true;
          e.in.toClient(buf);
          e.in.upgraded(e);
          return;
        }
        e.responseClose = h.close;
        untilClose = false;
        chunks = null;
        left = 0;
        if (e.head.isHead || status == 204 || status == 304) left = 0;
        else if (h.chunked) chunks = new Chunked();
        else if (h.contentLength >= 0) left = h.contentLength;
        else untilClose = true;
        state = BODY;
        from = buf.readerIndex() + h.length;
      }
      int to = buf.writerIndex(), end;
      if (untilClose) {
        end = -1;
      } else if (chunks != null) {
        end = chunks.scan(buf, from, to);
      } else {
        long n = Math.min(left, to - from);
        left -= n;
        end = left == 0 ? from + (int) n : -1;
      }
      if (end < 0) {
        e.in.toClient(buf);
        return;
      }
      boolean extra = end < to;
      if (extra) {
        e.in.toClient(buf.readRetainedSlice(end - buf.readerIndex()));
        buf.release();
      } else {
        e.in.toClient(buf);
      }
      complete(e, !extra && !e.responseClose);
      return;
    }
  }

  /** The response is all there: the connection goes back to its pool, or closes. */
  private void complete(Exchange e, boolean reusable) {
    exchange = null;
    state = HEAD;
    chunks = null;
    reused = true;
    e.in.responseDone(e, this, reusable && e.requestDone);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    if (e != null) e.in.channel().flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    if (e != null && ctx.channel().isWritable()) e.in.channel().config().setAutoRead(true);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (partial != null) {
      partial.release();
      partial = null;
    }
    Exchange e = exchange;
    exchange = null;
    if (e == null) {
      lane.forget(this);
    } else if (state == TUNNEL) {
      e.in.tunnelClosed(e);
    } else if (state == BODY && untilClose) {
      // a body without a length ends when the connection does
      state = HEAD;
      e.responseClose = true;
      e.in.responseDone(e, this, false);
    } else {
      e.in.backendFailed(e, this, "The service closed the connection" + (state == BODY ? " in the middle of its response" : " without answering"));
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // a reset, a broken pipe: channelInactive follows and says what it means
    ctx.close();
  }

  /** Backpressure from the client: stop reading the backend while the client cannot take more. */
  void pause(boolean paused) {
    if (channel.config().isAutoRead() == paused) channel.config().setAutoRead(!paused);
  }
}
