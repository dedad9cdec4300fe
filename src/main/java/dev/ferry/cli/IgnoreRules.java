package dev.ferry.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The patterns of a directory's {@code .gitignore} and {@code .ferryignore} (gitignore syntax:
 * {@code #} comments, {@code !} negation, a trailing {@code /} for directories only, a leading or
 * inner {@code /} anchors to the directory, {@code *}, {@code ?}, {@code [...]} and {@code **}).
 * Only the files at the top of the directory are read. The last matching pattern wins.
 */
final class IgnoreRules {

  private record Rule(Pattern pattern, boolean negated, boolean dirOnly) {
  }

  private final List<Rule> rules = new ArrayList<>();

  /** The rules of {@code dir}'s .gitignore, then its .ferryignore. */
  static IgnoreRules of(Path dir) throws IOException {
    IgnoreRules r = new IgnoreRules();
    for (String name : List.of(".gitignore", ".ferryignore")) {
      Path f = dir.resolve(name);
      if (Files.isRegularFile(f)) Files.readAllLines(f).forEach(r::add);
    }
    return r;
  }

  void add(String line) {
    String p = line.strip();
    if (p.isEmpty() || p.startsWith("#")) return;
    boolean negated = p.startsWith("!");
    if (negated) p = p.substring(1);
    boolean dirOnly = p.endsWith("/");
    if (dirOnly) p = p.substring(0, p.length() - 1);
    if (p.isEmpty()) return;
    // a pattern with a slash (other than at its end) is relative to the top; else it matches at any depth
    boolean anchored = p.contains("/");
    if (p.startsWith("/")) p = p.substring(1);
    String regex = (anchored ? "" : "(?:.*/)?") + glob(p);
    rules.add(new Rule(Pattern.compile(regex), negated, dirOnly));
  }

  /** Whether {@code rel} (a path relative to the top, with '/') is ignored, itself or through a parent directory. */
  boolean ignored(String rel, boolean isDir) {
    String[] parts = rel.split("/");
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) prefix.append('/');
      prefix.append(parts[i]);
      boolean last = i == parts.length - 1;
      if (matches(prefix.toString(), !last || isDir)) return true;
    }
    return false;
  }

  private boolean matches(String path, boolean isDir) {
    boolean ignored = false;
    for (Rule r : rules) {
      if (r.dirOnly() && !isDir) continue;
      if (r.pattern().matcher(path).matches()) ignored = !r.negated();
    }
    return ignored;
  }

  private static String glob(String g) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < g.length(); i++) {
      char c = g.charAt(i);
      if (c == '*' && i + 1 < g.length() && g.charAt(i + 1) == '*') {
        boolean slashAfter = i + 2 < g.length() && g.charAt(i + 2) == '/';
        sb.append(slashAfter ? "(?:.*/)?" : ".*");
        i += slashAfter ? 2 : 1;
      } else if (c == '*') {
        sb.append("[^/]*");
      } else if (c == '?') {
        sb.append("[^/]");
      } else if (c == '[') {
        int end = g.indexOf(']', i + 1);
        if (end < 0) {
          sb.append("\\[");
        } else {
          String set = g.substring(i + 1, end).replace("\\", "\\\\");
          sb.append('[').append(set.startsWith("!") ? "^" + set.substring(1) : set).append(']');
          i = end;
        }
      } else if (c == '\\' && i + 1 < g.length()) {
        sb.append(Pattern.quote(String.valueOf(g.charAt(++i))));
      } else {
        sb.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return sb.toString();
  }
}
