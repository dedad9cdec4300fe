package dev.ferry.runner;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Everything a runner's code writes becomes lines for the control plane: {@code System.out}
 * (stage {@code stdout}), {@code System.err} ({@code stderr}) and {@code java.util.logging}
 * ({@code service}, or {@code vertx} for Vert.x's and Netty's own loggers, such as blocked-thread
 * warnings). Each line names the deployment whose code wrote it (see {@link #deploymentOfCurrentThread}).
 * Nothing reaches the runner's real stdout and stderr, which only the JVM itself writes to.
 */
final class Output {

  /** Where lines go. */
  interface Sink {
    void line(String deployment, String level, String stage, String message);
  }

  /** Longer lines are cut: a line is a log line, not a file. */
  static final int MAX_LINE = 16 * 1024;

  private final Sink sink;
  private final Supplier<String> soleDeployment;

  Output(Sink sink, Supplier<String> soleDeployment) {
    this.sink = sink;
    this.soleDeployment = soleDeployment;
  }

  /**
   * Replaces {@code System.out}, {@code System.err} and the JUL root handlers. Lines from threads
   * of no service go to {@code soleDeployment} (the runner's only deployment, or null).
   */
  static Output install(Sink sink, Supplier<String> soleDeployment) {
    Output out = new Output(sink, soleDeployment);
    System.setOut(new PrintStream(out.new Lines("stdout", "info"), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(out.new Lines("stderr", "warn"), true, StandardCharsets.UTF_8));
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    root.setLevel(Level.INFO);
    root.addHandler(out.new Jul());
    return out;
  }

  /** A warning from the runner itself. */
  void warn(String message) {
    runner("warn", message);
  }

  /** A line from the runner itself (not from service code). */
  void runner(String level, String message) {
    sink.line(null, level, "runner", cut(message));
  }

  /**
   * A shared event loop blocked too long: the warning goes to the deployment whose code runs on it
   * now (Vert.x makes a deployment's classloader the context loader of the thread that runs it),
   * with the thread's stack once past Vert.x's warning-exception time.
   */
  void blocked(Thread thread, long durationNanos, long limitNanos, boolean withStack) {
    String deployment = thread.getContextClassLoader() instanceof ServiceClassLoader s ? s.deployment() : soleDeployment.get();
    StringBuilder message = new StringBuilder("Thread ").append(thread.getName()).append(" has been blocked for ")
        .append(durationNanos / 1_000_000).append(" ms, time limit is ").append(limitNanos / 1_000_000).append(" ms");
    if (withStack) {
      for (StackTraceElement e : thread.getStackTrace()) message.append("\n\tat ").append(e);
    }
    sink.line(deployment, "warn", "vertx", cut(message.toString()));
  }

  /**
   * The deployment whose code runs on the current thread: Vert.x sets a deployment's classloader as
   * the context loader of the threads that run it, and threads a service starts inherit it. The
   * warm-up's own threads are nobody's ({@link Warmup#NOBODY}: the control plane keeps their lines
   * out of every deployment's log), even once a service is loaded beside a warm-up that has not
   * stopped yet. Falls back to the runner's only deployment.
   */
  String deploymentOfCurrentThread() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader instanceof ServiceClassLoader s) return s.deployment();
    if (loader == Warmup.THREADS) return Warmup.NOBODY;
    return soleDeployment.get();
  }

  private void emit(String level, String stage, String message) {
    sink.line(deploymentOfCurrentThread(), level, stage, cut(message));
  }

  private static String cut(String s) {
    return s.length() <= MAX_LINE ? s : s.substring(0, MAX_LINE) + " … (" + (s.length() - MAX_LINE) + " more characters cut)";
  }

  /** An output stream that hands on each line written to it, per thread, so threads do not interleave. */
  private final class Lines extends OutputStream {
    private final String stage;
    private final String level;
    private final ThreadLocal<ByteArrayOutputStream> pending = ThreadLocal.withInitial(ByteArrayOutputStream::new);

    Lines(String stage, String level) {
      this.stage = stage;
      this.level = level;
    }

    @Override
    public void write(int b) {
      if (b == '\n') {
        endLine();
        return;
      }
      ByteArrayOutputStream buf = pending.get();
      buf.write(b);
      if (buf.size() >= MAX_LINE) endLine();
    }

    @Override
    public void write(byte[] b, int off, int len) {
      int start = off;
      for (int i = off; i < off + len; i++) {
        if (b[i] == '\n') {
          pending.get().write(b, start, i - start);
          endLine();
          start = i + 1;
        }
      }
      if (start < off + len) {
        ByteArrayOutputStream buf = pending.get();
        buf.write(b, start, off + len - start);
        if (buf.size() >= MAX_LINE) endLine();
      }
    }

    private void endLine() {
      ByteArrayOutputStream buf = pending.get();
      String line = buf.toString(StandardCharsets.UTF_8);
      buf.reset();
      if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
      emit(level, stage, line);
    }
  }

  /** java.util.logging, as the service and Vert.x use it. */
  private final class Jul extends Handler {
    Jul() {
      setFormatter(new SimpleFormatter());
    }

    @Override
    public void publish(LogRecord record) {
      if (!isLoggable(record)) return;
      String message = getFormatter().formatMessage(record);
      if (record.getThrown() != null) {
        StringWriter trace = new StringWriter();
        record.getThrown().printStackTrace(new PrintWriter(trace));
        message = message + "\n" + trace.toString().stripTrailing();
      }
      String name = record.getLoggerName() == null ? "" : record.getLoggerName();
      String stage = name.startsWith("io.vertx.") || name.startsWith("io.netty.") ? "vertx" : "service";
      emit(level(record.getLevel()), stage, message);
    }

    private String level(Level l) {
      if (l.intValue() >= Level.SEVERE.intValue()) return "error";
      if (l.intValue() >= Level.WARNING.intValue()) return "warn";
      if (l.intValue() >= Level.INFO.intValue()) return "info";
      return "debug";
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  }
}
