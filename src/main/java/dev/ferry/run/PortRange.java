package dev.ferry.run;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The ports services are given ({@code run.portRange}), chosen outside the operating system's
 * ephemeral range so that no outgoing connection or private server of a service can hold one the
 * platform is about to hand out. A port is taken only if nothing listens on it; several platforms
 * in one JVM (tests) never hand out the same port.
 */
public final class PortRange {

  private static final Logger log = LoggerFactory.getLogger(PortRange.class);
  /** Ports taken by any platform in this JVM. */
  private static final Set<Integer> TAKEN = new HashSet<>();

  private final int first;
  private final int last;
  private int next;

  public PortRange(int first, int last) {
    if (first < 1024 || last > 65535 || first > last) {
      throw new IllegalArgumentException("run.portRange must be FIRST-LAST within 1024-65535, not " + first + "-" + last);
    }
    this.first = first;
    this.last = last;
    // from a random place: two platforms on one host do not walk the range in step
    this.next = first + java.util.concurrent.ThreadLocalRandom.current().nextInt(last - first + 1);
  }

  /** Warns once when the range overlaps the kernel's ephemeral ports (a service's outgoing connection could hold one). */
  public void checkAgainstEphemeral() {
    Path file = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    try {
      String[] r = Files.readString(file).trim().split("\\s+");
      int lo = Integer.parseInt(r[0]), hi = Integer.parseInt(r[1]);
      if (first <= hi && lo <= last) {
        log.warn("run.portRange {}-{} overlaps the ephemeral ports {}-{} of this host: choose a range outside it", first, last, lo, hi);
      }
    } catch (IOException | RuntimeException unknown) {
      // not Linux, or unreadable: nothing to compare against
    }
  }

  /** A free port of the range, now the caller's until {@link #release}. */
  public int take() {
    synchronized (TAKEN) {
      int size = last - first + 1;
      for (int i = 0; i < size; i++) {
        int port = next;
        next = next == last ? first : next + 1;
        if (!TAKEN.contains(port) && free(port)) {
          TAKEN.add(port);
          return port;
        }
      }
    }
    throw new IllegalStateException("No free port left in run.portRange " + first + "-" + last);
  }

  /** Reserves {@code port} (a runner found serving on it after a restart). */
  public void hold(int port) {
    synchronized (TAKEN) {
      TAKEN.add(port);
    }
  }

  public void release(int port) {
    synchronized (TAKEN) {
      TAKEN.remove(port);
    }
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException inUse) {
      return false;
    }
  }
}
