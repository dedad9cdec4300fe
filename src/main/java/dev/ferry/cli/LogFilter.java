package dev.ferry.cli;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.ZoneId;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How the CLI shows a log line, stored or live: {@code HH:mm:ss.SSS LEVEL [stage] message} (local
 * time), after the deployment's id when a stream mixes deployments; and which lines it shows:
 * those from {@code since} on, matching {@code grep} (a regular expression, found anywhere in the
 * printed line).
 */
record LogFilter(Instant since, Pattern grep) {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  static final LogFilter ALL = new LogFilter(null, null);

  /** A filter from {@code --since} (a duration back from now, {@code 90s}, {@code 10m}, {@code 2h}, {@code 1d}, or an ISO instant) and {@code --grep}. */
  static LogFilter of(String since, String grep, Instant now) {
    Pattern p = null;
    if (grep != null) {
      try {
        p = Pattern.compile(grep);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("--grep: not a regular expression: " + e.getDescription());
      }
    }
    return new LogFilter(since == null ? null : instant(since, now), p);
  }

  static Instant instant(String since, Instant now) {
    var m = Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(since.trim().toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
      return now.minus(d);
    }
    try {
      return Instant.parse(since.trim());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--since: '" + since + "' is neither a duration (90s, 10m, 2h, 1d) nor an instant (2026-01-01T12:00:00Z)");
    }
  }

  /** {@code line} as printed; {@code withDeployment}: after its deployment's id. */
  static String format(JsonObject line, boolean withDeployment) {
    String ts = line.getString("ts", "");
    String time;
    try {
      time = TIME.format(Instant.parse(ts));
    } catch (DateTimeParseException e) {
      time = ts;
    }
    String level = line.getString("level", "info").toUpperCase(Locale.ROOT);
    return (withDeployment ? line.getString("deployment", "-") + " " : "") + time + " " + String.format("%-5s", level)
        + " [" + line.getString("stage", "") + "] " + line.getString("message", "");
  }

  boolean accepts(JsonObject line, String printed) {
    if (since != null) {
      try {
        if (Instant.parse(line.getString("ts", "")).isBefore(since)) return false;
      } catch (DateTimeParseException e) {
        // a line without a time: shown
      }
    }
    return grep == null || grep.matcher(printed).find();
  }
}
