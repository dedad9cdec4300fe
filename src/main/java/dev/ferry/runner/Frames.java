package dev.ferry.runner;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The channel's frames: one JSON object per line, read from and written to a blocking channel. */
final class Frames {

static final int MAX_FRAME = 8 * 1024 * 1024;

  private final SocketChannel ch;
  private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();

  Frames(SocketChannel ch) {
    this.ch = ch;
    buf.flip();
  }

  /** The next frame, or null at the end of the stream. */
  JsonObject next() throws IOException {
    while (true) {
      while (buf.hasRemaining()) {
        byte b = buf.get();
        if (b == '\n') {
          String s = line.toString(StandardCharsets.UTF_8);
          line.reset();
          if (!s.isBlank()) return new JsonObject(s);
        } else {
          if (line.size() >= MAX_FRAME) throw new IOException("frame too long");
          line.write(b);
        }
      }
      buf.clear();
      int n = ch.read(buf);
      buf.flip();
      if (n < 0) return null;
    }
  }

  static void write(SocketChannel ch, JsonObject frame) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap((frame.encode() + "\n").getBytes(StandardCharsets.UTF_8));
    while (buf.hasRemaining()) ch.write(buf);
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
