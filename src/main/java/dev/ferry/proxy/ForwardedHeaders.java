package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * The one place the proxy sets {@code X-Forwarded-For} (the client's address appended to what the
 * request came with), {@code X-Forwarded-Host} (the Host it asked for) and {@code X-Forwarded-Proto}
 * on a request to a service. The request's own X-Forwarded-Host and -Proto never reach the service.
 */
final class ForwardedHeaders {

  private static final byte[] FOR = "X-Forwarded-For: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HOST = "\r\nX-Forwarded-Host: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROTO_HTTP = "\r\nX-Forwarded-Proto: http\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROTO_HTTPS = "\r\nX-Forwarded-Proto: https\r\n".getBytes(StandardCharsets.US_ASCII);

  private ForwardedHeaders() {
  }

  /** The X-Forwarded-For value sent on: the one the request came with, then the client's address. */
  static String forwardedFor(String prior, String client) {
    return prior == null || prior.isBlank() ? client : prior + ", " + client;
  }

  /** Header lines to append to the head (each ending in CRLF). */
  static void write(Http1.RequestHead head, String client, boolean tls, ByteBuf out) {
    out.writeBytes(FOR);
    out.writeCharSequence(forwardedFor(head.forwardedFor, client), StandardCharsets.US_ASCII);
    if (head.host != null) {
      out.writeBytes(HOST);
      out.writeCharSequence(head.host, StandardCharsets.US_ASCII);
    }
    out.writeBytes(tls ? PROTO_HTTPS : PROTO_HTTP);
  }

  /** An upper bound of what {@link #write} appends. */
  static int size(Http1.RequestHead head, String client) {
    return 96 + client.length() + (head.forwardedFor == null ? 0 : head.forwardedFor.length() + 2)
        + (head.host == null ? 0 : head.host.length());
  }
}
