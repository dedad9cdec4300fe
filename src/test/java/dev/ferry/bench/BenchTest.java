package dev.ferry.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench is not part of the suite; its parsing and arithmetic are, so it cannot rot. */
class BenchTest {

  @Test
  void quick_shrinks_every_figure_and_flags_override() {
    BenchOptions q = BenchOptions.parse("--quick");
    assertTrue(q.quick());
    assertEquals(List.of(20), q.spread());
    assertEquals(1, q.proxyRuns());
    BenchOptions full = BenchOptions.parse("--spread=500,100", "--churn=7", "--restarts=2", "--out=/tmp/x.md");
    assertEquals(List.of(100, 500), full.spread());
    assertEquals(7, full.churn());
    assertEquals(2, full.restarts());
    assertEquals(5, full.proxyRuns());
    assertEquals(100, full.processServices());
    assertEquals(20, full.warmDeploys());
    assertEquals(Path.of("/tmp/x.md"), full.out());
    assertFalse(full.deploysOnly());
    assertTrue(BenchOptions.parse("--deploys-only", "--activations=3").deploysOnly());
    assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--churn=-1"));
    assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--nope=1"));
  }

  @Test
  void wrk_latency_output_is_parsed_with_units() {
    String out = """
        Running 3s test @ http://127.0.0.1:41077/
          1 threads and 32 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency   610.12us  1.02ms  22.60ms   95.31%
            Req/Sec    52.17k     3.10k   56.02k    80.00%
          Latency Distribution
             50%  440.00us
             75%  520.00us
             90%    0.98ms
             99%   11.51ms
          155718 requests in 3.00s, 20.49MB read
          Socket errors: connect 0, read 2, write 0, timeout 1
          Non-2xx or 3xx responses: 4
        Requests/sec:  51906.30
        Transfer/sec:      6.83MB
        """;
    LoadResult r = LoadResult.parseWrk(out);
    assertEquals(51906.30, r.requestsPerSecond(), 1e-6);
    assertEquals(0.44, r.p50Ms(), 1e-9);
    assertEquals(11.51, r.p99Ms(), 1e-9);
    assertEquals(7, r.errors());
    assertThrows(IllegalArgumentException.class, () -> LoadResult.parseWrk("connection refused"));
  }

  @Test
  void stats_are_order_statistics() {
    Stats s = Stats.of(List.of(5.0, 1.0, 4.0, 2.0, 3.0, 100.0));
    assertEquals(3.5, s.median());
    assertEquals(1.0, s.min());
    assertEquals(100.0, s.max());
    assertEquals(100.0, s.percentile(90));
    assertEquals(3.0, s.percentile(50));
    assertEquals("3.5 (1.0–100.0, n=6)", s.summary(1));
  }
}
