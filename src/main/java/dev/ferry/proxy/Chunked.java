package dev.ferry.proxy;

import io.netty.buffer.ByteBuf;

import static dev.ferry.proxy.Bytes.CR;
import static dev.ferry.proxy.Bytes.LF;

/** Where a chunked body ends: feed it bytes as they come; it says where the last chunk's trailer ends. */
final class Chunked {
  private static final int SIZE = 0, EXTENSION = 1, SIZE_LF = 2, DATA = 3, DATA_CR = 4, DATA_LF = 5, TRAILER = 6, TRAILER_LINE = 7,
      END_LF = 8, DONE = 9;
  private static final int MAX_LINE = 4096;
  private int state = SIZE;
  private long size;
  private int digits;
  private int line;

  boolean done() {
    return state == DONE;
  }

  /**
   * Reads {@code b}'s bytes in [from, to); returns the index just past the body's end if it ends
   * there, else -1 (all of them belong to the body).
   */
  int scan(ByteBuf b, int from, int to) throws Http1.Malformed {
    int i = from;
    while (i < to) {
      switch (state) {
        case DATA -> {
          int n = (int) Math.min(size, to - i);
          i += n;
          size -= n;
          if (size == 0) state = DATA_CR;
          continue;
        }
        case DONE -> {
          return i;
        }
        default -> { }
      }
      byte c = b.getByte(i++);
      switch (state) {
        case SIZE -> {
          int v = Character.digit(c, 16);
          if (v >= 0) {
            if (++digits > 15) throw new Http1.Malformed(400, "Chunk size too large");
            size = size * 16 + v;
          } else if (digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
            state = EXTENSION;
            line = 0;
          } else if (digits > 0 && c == CR) {
            state = SIZE_LF;
          } else {
            throw new Http1.Malformed(400, "Malformed chunk size");
          }
        }
        case EXTENSION -> {
          if (c == CR) state = SIZE_LF;
          else if (c == LF || ++line > MAX_LINE) throw new Http1.Malformed(400, "Malformed chunk extension");
        }
        case SIZE_LF -> {
          if (c != LF) throw new Http1.Malformed(400, "Malformed chunk size line");
          digits = 0;
          state = size == 0 ? TRAILER : DATA;
        }
        case DATA_CR -> {
          if (c != CR) throw new Http1.Malformed(400, "Chunk longer than its size");
          state = DATA_LF;
        }
        case DATA_LF -> {
          if (c != LF) throw new Http1.Malformed(400, "Chunk longer than its size");
          state = SIZE;
        }
        case TRAILER -> {
          if (c == CR) {
            state = END_LF;
          } else {
            state = TRAILER_LINE;
            line = 0;
          }
        }
        case TRAILER_LINE -> {
          if (c == LF) state = TRAILER;
          else if (++line > MAX_LINE) throw new Http1.Malformed(400, "Trailer line too long");
        }
        case END_LF -> {
          if (c != LF) throw new Http1.Malformed(400, "Malformed end of a chunked body");
          state = DONE;
          return i;
        }
        default -> throw new IllegalStateException("state " + state);
      }
    }
    return state == DONE ? i : -1;
  }
}
