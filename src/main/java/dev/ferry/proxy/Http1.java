package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

import static dev.ferry.proxy.Bytes.CR;
import static dev.ferry.proxy.Bytes.LF;
import static dev.ferry.proxy.Bytes.ascii;
import static dev.ferry.proxy.Bytes.contains;
import static dev.ferry.proxy.Bytes.digits;
import static dev.ferry.proxy.Bytes.endsWithChunked;
import static dev.ferry.proxy.Bytes.indexOf;
import static dev.ferry.proxy.Bytes.is;
import static dev.ferry.proxy.Bytes.isSpace;
import static dev.ferry.proxy.Bytes.lineEnd;
import static dev.ferry.proxy.Bytes.lower;
import static dev.ferry.proxy.Bytes.token;

/**
 * Just enough of HTTP/1.x (RFC 9112) to pass messages through unchanged: where a head ends, the
 * headers that frame the body (Content-Length, Transfer-Encoding: chunked), the connection's fate,
 * and the few headers the proxy reads or sets. Strict where a lenient reading would let a request
 * mean one thing to the proxy and another to the service (request smuggling): bare LF line ends,
 * space before a colon, folded lines, two Content-Lengths, Transfer-Encoding with Content-Length,
 * two Host headers are all refused.
 */
final class Http1 {

  /** The longest head the proxy reads (request line and headers). */
  static final int MAX_HEAD = 16 * 1024;

  private static final byte[] HOST = lower("host");
  private static final byte[] CONTENT_LENGTH = lower("content-length");
  private static final byte[] TRANSFER_ENCODING = lower("transfer-encoding");
  private static final byte[] CONNECTION = lower("connection");
  private static final byte[] KEEP_ALIVE = lower("keep-alive");
  private static final byte[] PROXY_CONNECTION = lower("proxy-connection");
  private static final byte[] UPGRADE = lower("upgrade");
  private static final byte[] X_FORWARDED_FOR = lower("x-forwarded-for");
  private static final byte[] X_FORWARDED_HOST = lower("x-forwarded-host");
  private static final byte[] X_FORWARDED_PROTO = lower("x-forwarded-proto");
  static final byte[] CHUNKED = lower("chunked");
  private static final byte[] CLOSE = lower("close");

  private Http1() {
  }

  /** A message the proxy refuses, with the status to answer. */
  static final class Malformed extends Exception {
    final int status;

    Malformed(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** A request's head: where it is, what frames its body, and what the proxy needs of it. */
  static final class RequestHead {
    /** Bytes of the head, its blank line included. */
    int length;
    boolean http10;
    boolean isHead;
    /** The Host header as sent (there may be one at most), and the count while reading. */
    String host;
    int hosts;
    long contentLength = -1;
    boolean chunked;
    /** The client wants the connection closed after this exchange. */
    boolean close;
    /** A protocol switch (WebSocket): Connection: upgrade with an Upgrade header. */
    boolean upgrade;
    private boolean upgradeHeader;
    /** The X-Forwarded-For the request came with, if any. */
    String forwardedFor;
    /** The (first) X-Forwarded-Host and -Proto the request came with, if any. */
    String forwardedHost;
    String forwardedProto;
    /** [start, end) offsets from the head's start of header lines not forwarded: set again, or hop-by-hop. */
    int[] drop = new int[8];
    int drops;

    boolean hasBody() {
      return chunked || contentLength > 0;
    }

    private void drop(int from, int to) {
      if (drops + 2 > drop.length) drop = java.util.Arrays.copyOf(drop, drop.length * 2);
      drop[drops++] = from;
      drop[drops++] = to;
    }
  }

  /** A response's head: its status and what frames its body. */
  static final class ResponseHead {
    int length;
    int status;
    boolean http10;
    long contentLength = -1;
    boolean chunked;
    /** The backend will close the connection after this response. */
    boolean close;
  }

  /**
   * The request head at {@code b}'s reader index, or null when it is not all there yet. The buffer's
   * indexes are not moved; its head is read from a copy in {@code scratch} (at least {@link #SCRATCH} bytes).
   */
  static RequestHead request(ByteBuf b, byte[] scratch) throws Malformed {
    int readable = b.readableBytes();
    int n = Math.min(readable, FIRST_COPY);
    b.getBytes(b.readerIndex(), scratch, 0, n);
    RequestHead h = request(scratch, n, readable);
    if (h == null && readable > n) {
      n = Math.min(readable, SCRATCH);
      b.getBytes(b.readerIndex(), scratch, 0, n);
      h = request(scratch, n, readable);
    }
    return h;
  }

  /** How much of a buffer is copied to look for a head first: most heads are shorter. */
  private static final int FIRST_COPY = 1024;
  /** The size of a scratch array for {@link #request} and {@link #response}. */
  static final int SCRATCH = MAX_HEAD + 4;

  private static RequestHead request(byte[] b, int end, int readable) throws Malformed {
    int start = 0;
    int lf = lineEnd(b, start, end);
    if (lf < 0) {
      if (readable > MAX_HEAD) throw new Malformed(431, "Request head larger than " + MAX_HEAD + " bytes");
      return null;
    }
    RequestHead h = new RequestHead();
    // request line: method SP target SP HTTP/1.x
    int sp1 = indexOf(b, start, lf, (byte) ' ');
    int sp2 = sp1 < 0 ? -1 : indexOf(b, sp1 + 1, lf, (byte) ' ');
    if (sp1 <= start || sp2 <= sp1 + 1 || !token(b, start, sp1)) throw new Malformed(400, "Malformed request line");
    int versionLength = lf - 1 - (sp2 + 1);
    if (versionLength != 8 || !ascii(b, sp2 + 1, "HTTP/1.")) throw new Malformed(505, "Only HTTP/1.0 and HTTP/1.1 are served");
    byte minor = b[sp2 + 8];
    if (minor != '0' && minor != '1') throw new Malformed(505, "Only HTTP/1.0 and HTTP/1.1 are served");
    h.http10 = minor == '0';
    h.isHead = sp1 - start == 4 && ascii(b, start, "HEAD");
    boolean keepAlive = false, close = false, upgradeToken = false;
    int pos = lf + 1;
    while (true) {
      lf = lineEnd(b, pos, end);
      if (lf < 0) {
        if (readable > MAX_HEAD) throw new Malformed(431, "Request head larger than " + MAX_HEAD + " bytes");
        return null;
      }
      if (lf == pos + 1) break;
      byte first = b[pos];
      if (first == ' ' || first == '\t') throw new Malformed(400, "Folded header lines are not accepted");
      int colon = indexOf(b, pos, lf, (byte) ':');
      if (colon <= pos || !token(b, pos, colon)) throw new Malformed(400, "Malformed header line");
      int nameLength = colon - pos;
      int vs = colon + 1, ve = lf - 1;
      while (vs < ve && isSpace(b[vs])) vs++;
      while (ve > vs && isSpace(b[ve - 1])) ve--;
      for (int i = vs; i < ve; i++) {
        if (b[i] == CR || b[i] == 0) throw new Malformed(400, "Malformed header value");
      }
      int lineStart = pos - start, lineEnd = lf + 1 - start;
      if (is(b, pos, nameLength, HOST)) {
        if (++h.hosts > 1) throw new Malformed(400, "The request has more than one Host header");
        h.host = new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1);
      } else if (is(b, pos, nameLength, CONTENT_LENGTH)) {
        if (h.contentLength >= 0) throw new Malformed(400, "More than one Content-Length");
        h.contentLength = digits(b, vs, ve);
      } else if (is(b, pos, nameLength, TRANSFER_ENCODING)) {
        if (h.chunked || !is(b, vs, ve - vs, CHUNKED)) throw new Malformed(501, "Transfer-Encoding other than chunked is not served");
        h.chunked = true;
      } else if (is(b, pos, nameLength, CONNECTION)) {
        for (int t = vs; t < ve; ) {
          int comma = indexOf(b, t, ve, (byte) ',');
          int te = comma < 0 ? ve : comma, ts = t;
          while (ts < te && isSpace(b[ts])) ts++;
          int tl = te;
          while (tl > ts && isSpace(b[tl - 1])) tl--;
          if (is(b, ts, tl - ts, CLOSE)) close = true;
          else if (is(b, ts, tl - ts, KEEP_ALIVE)) keepAlive = true;
          else if (is(b, ts, tl - ts, UPGRADE)) upgradeToken = true;
          t = te + 1;
        }
        h.drop(lineStart, lineEnd);
      } else if (is(b, pos, nameLength, UPGRADE)) {
        h.upgradeHeader = true;
      } else if (is(b, pos, nameLength, KEEP_ALIVE) || is(b, pos, nameLength, PROXY_CONNECTION)) {
        h.drop(lineStart, lineEnd);
      } else if (is(b, pos, nameLength, X_FORWARDED_FOR)) {
        String v = new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1);
        h.forwardedFor = h.forwardedFor == null ? v : h.forwardedFor + ", " + v;
        h.drop(lineStart, lineEnd);
      } else if (is(b, pos, nameLength, X_FORWARDED_HOST)) {
        if (h.forwardedHost == null) h.forwardedHost = new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1);
        h.drop(lineStart, lineEnd);
      } else if (is(b, pos, nameLength, X_FORWARDED_PROTO)) {
        if (h.forwardedProto == null) h.forwardedProto = new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1);
        h.drop(lineStart, lineEnd);
      }
      pos = lf + 1;
    }
    h.length = lf + 1 - start;
    if (h.chunked && h.contentLength >= 0) throw new Malformed(400, "Both Transfer-Encoding and Content-Length");
    if (h.chunked && h.http10) throw new Malformed(400, "Transfer-Encoding in an HTTP/1.0 request");
    h.upgrade = upgradeToken && h.upgradeHeader && !h.http10;
    h.close = close || (h.http10 && !keepAlive);
    if (h.upgrade || h.http10) {
      // passed on as sent: the service answers an upgrade or an HTTP/1.0 request as they ask
      keepOnly(h, start, b);
    }
    return h;
  }

  /** For an upgrade or HTTP/1.0 request, Connection and Keep-Alive go through: only the forwarded headers are dropped. */
  private static void keepOnly(RequestHead h, int start, byte[] b) {
    int[] old = h.drop;
    int n = h.drops;
    h.drop = new int[Math.max(8, n)];
    h.drops = 0;
    for (int i = 0; i < n; i += 2) {
      int pos = start + old[i];
      int colon = indexOf(b, pos, start + old[i + 1], (byte) ':');
      int len = colon - pos;
      if (is(b, pos, len, X_FORWARDED_FOR) || is(b, pos, len, X_FORWARDED_HOST) || is(b, pos, len, X_FORWARDED_PROTO)) {
        h.drop(old[i], old[i + 1]);
      }
    }
  }

  /**
   * The response head at {@code b}'s reader index, or null when it is not all there yet; lenient
   * about what does not frame the body (the service's own server wrote it).
   */
  static ResponseHead response(ByteBuf b, byte[] scratch) throws Malformed {
    int readable = b.readableBytes();
    int n = Math.min(readable, FIRST_COPY);
    b.getBytes(b.readerIndex(), scratch, 0, n);
    ResponseHead h = response(scratch, n, readable);
    if (h == null && readable > n) {
      n = Math.min(readable, SCRATCH);
      b.getBytes(b.readerIndex(), scratch, 0, n);
      h = response(scratch, n, readable);
    }
    return h;
  }

  private static ResponseHead response(byte[] b, int end, int readable) throws Malformed {
    int start = 0;
    int lf = indexOf(b, start, end, LF);
    if (lf < 0) {
      if (readable > MAX_HEAD) throw new Malformed(502, "Response head larger than " + MAX_HEAD + " bytes");
      return null;
    }
    if (lf - start < 12 || !ascii(b, start, "HTTP/1.")) throw new Malformed(502, "Malformed status line");
    ResponseHead h = new ResponseHead();
    h.http10 = b[start + 7] == '0';
    h.status = (int) digits(b, start + 9, start + 12);
    boolean keepAlive = false;
    int pos = lf + 1;
    while (true) {
      lf = indexOf(b, pos, end, LF);
      if (lf < 0) {
        if (readable > MAX_HEAD) throw new Malformed(502, "Response head larger than " + MAX_HEAD + " bytes");
        return null;
      }
      int le = lf > pos && b[lf - 1] == CR ? lf - 1 : lf;
      if (le == pos) break;
      int colon = indexOf(b, pos, le, (byte) ':');
      if (colon > pos) {
        int nameLength = colon - pos, vs = colon + 1, ve = le;
        while (vs < ve && isSpace(b[vs])) vs++;
        while (ve > vs && isSpace(b[ve - 1])) ve--;
        if (is(b, pos, nameLength, CONTENT_LENGTH)) {
          long cl = digits(b, vs, ve);
          if (h.contentLength >= 0 && h.contentLength != cl) throw new Malformed(502, "Conflicting Content-Length");
          h.contentLength = cl;
        } else if (is(b, pos, nameLength, TRANSFER_ENCODING)) {
          // the last coding decides (RFC 9112 6.3): chunked, or the body runs until the connection closes
          h.chunked = endsWithChunked(b, vs, ve);
          if (!h.chunked) h.close = true;
        } else if (is(b, pos, nameLength, CONNECTION)) {
          if (contains(b, vs, ve, CLOSE)) h.close = true;
          if (contains(b, vs, ve, KEEP_ALIVE)) keepAlive = true;
        }
      }
      pos = lf + 1;
    }
    h.length = lf + 1 - start;
    if (h.chunked) h.contentLength = -1;
    if (h.http10 && !keepAlive) h.close = true;
    return h;
  }

}
