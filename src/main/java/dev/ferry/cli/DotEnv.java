package dev.ferry.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code .env} format: {@code KEY=VALUE} lines, optionally {@code export KEY=VALUE}; blank lines
 * and {@code #} comments skipped; a value in double quotes may hold {@code \n}, {@code \"} and
 * {@code \\} escapes, one in single quotes is taken as it is; an unquoted value ends at {@code " #"}.
 */
final class DotEnv {

  private DotEnv() {
  }

  static Map<String, String> parse(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    int n = 0;
    for (String raw : text.split("\r?\n", -1)) {
      n++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      if (line.startsWith("export ")) line = line.substring(7).stripLeading();
      int eq = line.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException(".env line " + n + " is not KEY=VALUE");
      String key = line.substring(0, eq).strip();
      String v = line.substring(eq + 1).strip();
      if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
        v = unescape(v.substring(1, v.length() - 1));
      } else if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) {
        v = v.substring(1, v.length() - 1);
      } else {
        int comment = v.indexOf(" #");
        if (comment >= 0) v = v.substring(0, comment).stripTrailing();
      }
      out.put(key, v);
    }
    return out;
  }

  private static String unescape(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char e = s.charAt(++i);
        b.append(switch (e) {
          case 'n' -> '\n';
          case 'r' -> '\r';
          case 't' -> '\t';
          default -> e;
        });
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
