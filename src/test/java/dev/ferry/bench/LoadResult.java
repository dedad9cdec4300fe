package dev.ferry.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One load-generator run: requests per second and latency percentiles in milliseconds. */
record LoadResult(double requestsPerSecond, double p50Ms, double p99Ms, long errors) {

  private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
  private static final Pattern PCT = Pattern.compile("^\\s*(50|99)(?:\\.000)?%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);
  private static final Pattern ERRORS = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");

  /** Parses the output of {@code wrk --latency}. */
  static LoadResult parseWrk(String out) {
    Matcher m = RPS.matcher(out);
    if (!m.find()) throw new IllegalArgumentException("no Requests/sec in wrk output:\n" + out);
    double rps = Double.parseDouble(m.group(1));
    double p50 = Double.NaN, p99 = Double.NaN;
    Matcher p = PCT.matcher(out);
    while (p.find()) {
      double ms = toMillis(Double.parseDouble(p.group(2)), p.group(3));
      if (p.group(1).equals("50")) p50 = ms;
      else p99 = ms;
    }
    if (Double.isNaN(p50) || Double.isNaN(p99)) throw new IllegalArgumentException("no latency distribution (run wrk with --latency):\n" + out);
    long errors = 0;
    Matcher e = ERRORS.matcher(out);
    if (e.find()) for (int i = 1; i <= 4; i++) errors += Long.parseLong(e.group(i));
    Matcher n = NON_2XX.matcher(out);
    if (n.find()) errors += Long.parseLong(n.group(1));
    return new LoadResult(rps, p50, p99, errors);
  }

  private static double toMillis(double v, String unit) {
    return switch (unit.toLowerCase(Locale.ROOT)) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
  }
}
