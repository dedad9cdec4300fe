package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * A client's connection to the proxy as {@link Inbound} keeps it: where it stands, which service
 * its Host names, and the answers the proxy gives itself when it does not forward a request.
 */
abstract class ClientConnection extends ChannelInboundHandlerAdapter {

  final Lane lane;
  Channel channel;
  String client = "unknown";
  /** Bytes read but not yet handled: an incomplete head, or a pipelined request waiting its turn. */
  ByteBuf pending;
  /** The request in flight, if any. */
  Exchange exchange;
  /** Waiting for a service on its way (restored, restarted, woken). */
  boolean held;
  /** The connection closes once the current answer is out. */
  boolean closing;
  String lastHost;
  String lastService;
  /** Gives back this connection's place in its client's count (the connection guard's). */
  Runnable release;
  /** The client is one of {@code server.trustedProxies}: its X-Forwarded-* are kept. */
  boolean trusted;
  /** Since when a request head has been awaited (the connection opened, or its next request's first byte came); 0: none awaited. */
  long headSince;
  /** Since when nothing has been in flight on this kept-alive connection; 0: something is. */
  long quietSince;

  ClientConnection(Lane lane) {
    this.lane = lane;
  }

  Channel channel() {
    return channel;
  }

  /** The service {@code host} names (lowercase), or null if it names none. */
  String serviceOf(String host) {
    if (host.equals(lastHost)) return lastService;
    String name = lane.serviceOf(host);
    lastHost = host;
    lastService = name;
    return name;
  }

  static String hostOnly(String host) {
    int colon = host.lastIndexOf(':');
    return colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
  }

  /**
   * Answers a request the proxy did not forward: JSON {@code {"error","message"}}. The request's
   * head is consumed; with a body it cannot skip, the connection closes after the answer.
   */
  void answer(Http1.RequestHead h, int status, String code, String message, String retryAfter) {
    if (h != null && pending != null) pending.skipBytes(h.length);
    reply(h, status, code, message, retryAfter, h == null || h.hasBody());
  }

  void reply(Http1.RequestHead h, int status, String code, String message, String retryAfter, boolean close) {
    close |= h == null || h.close;
    byte[] body = new JsonObject().put("error", code).put("message", message).encode().getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(160).append(h != null && h.http10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(status).append(' ')
        .append(reason(status)).append("\r\ncontent-type: application/json\r\ncontent-length: ").append(body.length).append("\r\n");
    if (retryAfter != null) sb.append("retry-after: ").append(retryAfter).append("\r\n");
    if (close) sb.append("connection: close\r\n");
    sb.append("\r\n");
    ByteBuf out = channel.alloc().buffer(sb.length() + body.length);
    out.writeCharSequence(sb, StandardCharsets.US_ASCII);
    out.writeBytes(body);
    if (close) {
      closing = true;
      channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    } else {
      channel.writeAndFlush(out, channel.voidPromise());
    }
  }

  private static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 431 -> "Request Header Fields Too Large";
      case 501 -> "Not Implemented";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      case 505 -> "HTTP Version Not Supported";
      default -> "Error";
    };
  }
}
