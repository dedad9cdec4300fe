package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * The one place the proxy sets {@code X-Forwarded-For}, {@code X-Forwarded-Host} and
 * {@code X-Forwarded-Proto} on a request to a service. What a client sent in them is replaced by
 * what the proxy saw (its address, the Host it asked for, the scheme), so a client cannot pose as
 * another; only a trusted proxy's ({@code server.trustedProxies}) are kept, its X-Forwarded-For
 * appended to.
 */
final class ForwardedHeaders {

  private static final byte[] FOR = "X-Forwarded-For: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HOST = "\r\nX-Forwarded-Host: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROTO = "\r\nX-Forwarded-Proto: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = {'\r', '\n'};

  private ForwardedHeaders() {
  }

  /** The X-Forwarded-For value sent on: the client's address, after a trusted proxy's value. */
  static String forwardedFor(String prior, String client, boolean trusted) {
    return !trusted || prior == null || prior.isBlank() ? client : prior + ", " + client;
  }

  /** Header lines to append to the head (each ending in CRLF); {@code trusted}: the client is a trusted proxy. */
  static void write(Http1.RequestHead head, String client, boolean trusted, boolean tls, ByteBuf out) {
    out.writeBytes(FOR);
    out.writeCharSequence(forwardedFor(head.forwardedFor, client, trusted), StandardCharsets.US_ASCII);
    String host = trusted && head.forwardedHost != null ? head.forwardedHost : head.host;
    if (host != null) {
      out.writeBytes(HOST);
      out.writeCharSequence(host, StandardCharsets.US_ASCII);
    }
    out.writeBytes(PROTO);
    out.writeCharSequence(trusted && head.forwardedProto != null ? head.forwardedProto : tls ? "https" : "http", StandardCharsets.US_ASCII);
    out.writeBytes(CRLF);
  }

  /** An upper bound of what {@link #write} appends. */
  static int size(Http1.RequestHead head, String client) {
    return 96 + client.length() + (head.forwardedFor == null ? 0 : head.forwardedFor.length() + 2)
        + Math.max(head.host == null ? 0 : head.host.length(), head.forwardedHost == null ? 0 : head.forwardedHost.length())
        + (head.forwardedProto == null ? 0 : head.forwardedProto.length());
  }

  /** The request head in {@code pending} as the backend gets it: less the headers the proxy sets or that are hop-by-hop, plus X-Forwarded-*. */
  static ByteBuf head(ByteBuf pending, ByteBufAllocator alloc, Http1.RequestHead h, String client, boolean trusted) {
    int start = pending.readerIndex();
    ByteBuf out = alloc.directBuffer(h.length + size(h, client));
    int from = start;
    for (int i = 0; i < h.drops; i += 2) {
      out.writeBytes(pending, from, start + h.drop[i] - from);
      from = start + h.drop[i + 1];
    }
    // all but the blank line, which comes after the forwarded headers
    out.writeBytes(pending, from, start + h.length - 2 - from);
    write(h, client, trusted, false, out);
    out.writeByte('\r').writeByte('\n');
    return out;
  }
}
