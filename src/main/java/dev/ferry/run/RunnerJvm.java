package dev.ferry.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** Where a sandboxed runner's JVM is, found while it starts. */
final class RunnerJvm {

  private RunnerJvm() {
  }

  /**
   * The JVM under {@code bwrap}, the bubblewrap process the platform started: its grandchild
   * (bubblewrap, then the init of its pid namespace, then the JVM); null until it runs.
   */
  static ProcessHandle under(ProcessHandle bwrap) {
    return firstChild(bwrap).flatMap(RunnerJvm::firstChild).orElse(null);
  }

  /**
   * The first child of {@code p} (single-threaded: bubblewrap and its init), as the kernel lists it in
   * {@code /proc/<pid>/task/<pid>/children}. Polled while a runner starts, so not by
   * {@link ProcessHandle#children}, which reads every process's {@code /proc} entry: with a hundred
   * runners starting at once that blocked the runtime's event loop for seconds. That only where the
   * kernel does not list children.
   */
  private static Optional<ProcessHandle> firstChild(ProcessHandle p) {
    String pid = String.valueOf(p.pid());
    try {
      String children = Files.readString(Path.of("/proc", pid, "task", pid, "children")).trim();
      return children.isEmpty() ? Optional.empty() : ProcessHandle.of(Long.parseLong(children.split(" ")[0]));
    } catch (NoSuchFileException gone) {
      return p.isAlive() ? p.children().findFirst() : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return p.children().findFirst();
    }
  }
}
