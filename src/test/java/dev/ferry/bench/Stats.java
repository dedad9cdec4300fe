package dev.ferry.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Order statistics over repeated measurements: median, percentiles, min and max. */
record Stats(List<Double> sorted) {

  static Stats of(List<Double> values) {
    if (values.isEmpty()) throw new IllegalArgumentException("no measurements");
    List<Double> s = new ArrayList<>(values);
    Collections.sort(s);
    return new Stats(List.copyOf(s));
  }

  /** Nearest-rank percentile, {@code p} in (0, 100]. */
  double percentile(double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  double median() {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  double min() { return sorted.get(0); }
  double max() { return sorted.get(sorted.size() - 1); }
  int count() { return sorted.size(); }

  /** "median (min–max, n=…)" with {@code decimals} decimals. */
  String summary(int decimals) {
    String f = "%." + decimals + "f";
    return String.format(Locale.ROOT, f + " (" + f + "–" + f + ", n=%d)", median(), min(), max(), count());
  }
}
