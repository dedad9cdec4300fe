package dev.ferry.proxy;

import java.nio.charset.StandardCharsets;

/** Reading HTTP/1.x bytes in place: lines, tokens, case-insensitive names, numbers. */
final class Bytes {

  static final byte CR = '\r', LF = '\n';

  private Bytes() {
  }

  static int indexOf(byte[] b, int from, int to, byte v) {
    for (int i = from; i < to; i++) {
      if (b[i] == v) return i;
    }
    return -1;
  }

  /** The index of the LF ending the line at {@code from} (which must be CRLF), or -1 if not there yet. */
  static int lineEnd(byte[] b, int from, int end) throws Http1.Malformed {
    int lf = indexOf(b, from, end, LF);
    if (lf < 0) return -1;
    if (lf == from || b[lf - 1] != CR) throw new Http1.Malformed(400, "Lines must end with CRLF");
    return lf;
  }

  static boolean isSpace(byte c) {
    return c == ' ' || c == '\t';
  }

  /** Whether [from, to) is a token (RFC 9110 5.6.2): what a method or header name may be. */
  static boolean token(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) return false;
    }
    return true;
  }

  /** Whether [from, from+len) is {@code lower}, ignoring ASCII case. */
  static boolean is(byte[] b, int from, int len, byte[] lower) {
    if (len != lower.length) return false;
    for (int i = 0; i < len; i++) {
      byte c = b[from + i];
      if (c >= 'A' && c <= 'Z') c += 32;
      if (c != lower[i]) return false;
    }
    return true;
  }

  static boolean contains(byte[] b, int from, int to, byte[] lower) {
    for (int i = from; i + lower.length <= to; i++) {
      if (is(b, i, lower.length, lower)) return true;
    }
    return false;
  }

  static boolean endsWithChunked(byte[] b, int from, int to) {
    return to - from >= Http1.CHUNKED.length && is(b, to - Http1.CHUNKED.length, Http1.CHUNKED.length, Http1.CHUNKED);
  }

  static boolean ascii(byte[] b, int from, String s) {
    for (int i = 0; i < s.length(); i++) {
      if (b[from + i] != s.charAt(i)) return false;
    }
    return true;
  }

  static long digits(byte[] b, int from, int to) throws Http1.Malformed {
    if (from >= to || to - from > 18) throw new Http1.Malformed(400, "Malformed number");
    long v = 0;
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c < '0' || c > '9') throw new Http1.Malformed(400, "Malformed number");
      v = v * 10 + (c - '0');
    }
    return v;
  }

  static byte[] lower(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
