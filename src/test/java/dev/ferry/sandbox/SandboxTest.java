package dev.ferry.sandbox;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sandbox itself, with the real bubblewrap, setpriv, prlimit and this host's cgroups: who a
 * sandboxed process is, what it sees, which limits reach it, and what a host that cannot enforce
 * a limit reports. The platform-level attacks are in {@code HostileTenantsTest}.
 */
class SandboxTest {

  static final Limits LIMITS = new Limits(64, 300, 8, 77, 99, 512);

  @Test
  void as_root_a_sandboxed_process_runs_as_nobody_without_capabilities_and_sees_only_the_system_and_its_files() throws Exception {
    assumeBwrap();
    assumeTrue(Host.platformUid() == 0, "the platform does not run as root here");
    Path data = Files.createTempDirectory("sandbox-data");
    Path mine = Files.writeString(Files.createTempFile("visible", ".txt"), "mine");
    Files.setPosixFilePermissions(mine, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    try {
      Sandbox sandbox = Sandbox.open("bwrap", data, Cgroups.none("not in this test"), 0);
      Launch l = sandbox.launch("t-" + System.nanoTime(), LIMITS);
      String inside = l.readOnly(mine, "files");
      String out = run(l.command(List.of("/bin/sh", "-c", "id -u; id -G; grep -E 'CapEff|NoNewPrivs' /proc/self/status; ls /; cat " + inside
          + "; ls " + data + " 2>&1; echo x > " + inside + " 2>&1; ulimit -n")));
      List<String> lines = out.lines().toList();
      assertEquals(String.valueOf(Sandbox.UID), lines.get(0), out);
      assertEquals(String.valueOf(Sandbox.GID), lines.get(1), "no supplementary groups: " + out);
      assertTrue(out.contains("CapEff:\t0000000000000000"), "no capabilities: " + out);
      assertTrue(out.contains("NoNewPrivs:\t1"), out);
      assertTrue(out.contains("mine"), "it reads the file it was given: " + out);
      assertTrue(out.contains("No such file or directory"), "not the data dir: " + out);
      assertTrue(out.contains("Read-only file system"), "its file is read-only: " + out);
      assertEquals("99", lines.get(lines.size() - 1), "its open files limit: " + out);
      assertFalse(out.contains("root\n") || out.contains("home\n") || out.contains("work\n"), out);
    } finally {
      Files.deleteIfExists(mine);
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  @Test
  void an_unprivileged_platform_gets_a_user_namespace_that_cannot_make_another() throws Exception {
    assumeBwrap();
    assumeTrue(Host.platformUid() == 0, "setpriv needs root to play an unprivileged platform here");
    Path data = Files.createTempDirectory("sandbox-data");
    try {
      // as a platform running as nobody would: bubblewrap itself unprivileged
      Sandbox sandbox = Sandbox.open("bwrap", data, Cgroups.none("not in this test"), 65534);
      Launch l = sandbox.launch("t-" + System.nanoTime(), LIMITS);
      List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
      cmd.addAll(l.command(List.of("/bin/sh", "-c", "id -u; unshare -U true 2>&1 && echo nested || echo refused; sleep 2")));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      Thread.sleep(700);
      // on the host, every process of it is the platform's user, nobody's root
      List<String> users = p.toHandle().descendants().map(h -> h.info().user().orElse("?")).distinct().toList();
      assertEquals(List.of("nobody"), users, "users on the host");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(10, TimeUnit.SECONDS));
      List<String> lines = out.lines().toList();
      assertEquals(String.valueOf(Sandbox.UID), lines.get(0), out);
      assertEquals("refused", lines.get(lines.size() - 1), "no user namespace inside: " + out);
    } finally {
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  @Test
  void the_limits_reach_the_process_through_its_cgroup_and_rlimits() throws Exception {
    Cgroups cgroups = Cgroups.detect();
    assumeTrue(cgroups.has(Cgroups.MEMORY) && cgroups.has(Cgroups.PIDS) && cgroups.has(Cgroups.CPU),
        "this host does not let the platform write memory, pids and cpu cgroups: " + cgroups.missing());
    Path data = Files.createTempDirectory("sandbox-data");
    String name = "t-" + System.nanoTime();
    Sandbox sandbox = Sandbox.open(Sandbox.bwrapInstalled() ? "bwrap" : "none", data, cgroups, Host.platformUid());
    try {
      Launch l = sandbox.launch(name, LIMITS);
      Process p = new ProcessBuilder(l.command(List.of("/bin/sh", "-c", "ulimit -n; grep 'Max file size' /proc/self/limits; sleep 3")))
          .redirectErrorStream(true).start();
      p.getOutputStream().close();
      Thread.sleep(1_000);
      // from the host: every process of it is in its group, whose files hold its limits
      List<Path> procs = cgroups.create(name, LIMITS);
      for (Path file : procs) {
        List<Long> members = Files.readAllLines(file).stream().map(Long::parseLong).toList();
        assertTrue(members.contains(p.pid()), file + " holds " + members + ", not " + p.pid());
        assertTrue(p.toHandle().descendants().allMatch(d -> members.contains(d.pid())), "and every process under it: " + members);
      }
      assertTrue(sandbox.processes(name) >= 3, "its pids group counts them: " + sandbox.processes(name));
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(10, TimeUnit.SECONDS));
      List<String> lines = out.lines().toList();
      assertEquals("99", lines.get(0), out);
      // no file larger than /tmp
      assertTrue(lines.get(1).matches("Max file size\\s+" + LIMITS.tmpMb() * 1024L * 1024L + "\\s+" + LIMITS.tmpMb() * 1024L * 1024L
          + "\\s+bytes\\s*"), out);
    } finally {
      sandbox.release(name);
      dev.ferry.TestPlatform.deleteTree(data);
    }
    long deadline = System.currentTimeMillis() + 10_000;
    while (sandbox.processes(name) != -1 && System.currentTimeMillis() < deadline) Thread.sleep(50);
    assertEquals(-1, sandbox.processes(name), "its group is removed with it");
  }

  @Test
  void groups_left_empty_by_processes_whose_end_went_unseen_are_swept_once_a_minute_old_and_a_fresh_one_is_not() throws Exception {
    Cgroups cgroups = Cgroups.detect();
    assumeTrue(!cgroups.bases().isEmpty(), "no writable cgroup here: " + cgroups.missing());
    String old = "t-old-" + System.nanoTime(), fresh = "t-fresh-" + System.nanoTime();
    try {
      List<Path> stale = cgroups.create(old, LIMITS);
      cgroups.create(fresh, LIMITS);
      // a group made over a minute ago (its directory's time set back), empty
      for (Path procs : stale) Files.setLastModifiedTime(procs.getParent(), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
      cgroups.sweep();
      for (Path procs : stale) assertFalse(Files.exists(procs.getParent()), "swept: " + procs.getParent());
      for (Path base : cgroups.bases()) assertTrue(Files.isDirectory(base.resolve(Cgroups.group(fresh))), "kept: " + fresh);
    } finally {
      cgroups.remove(old);
      cgroups.remove(fresh);
    }
  }

  @Test
  void the_group_holds_the_limits_the_launch_asked_for() throws Exception {
    Cgroups cgroups = Cgroups.detect();
    assumeTrue(cgroups.version().equals("v1") && cgroups.has(Cgroups.MEMORY) && cgroups.has(Cgroups.PIDS) && cgroups.has(Cgroups.CPU),
        "no writable cgroup v1 memory, pids and cpu here (" + cgroups.version() + ", " + cgroups.missing() + ")");
    String name = "t-" + System.nanoTime();
    try {
      List<Path> procs = cgroups.create(name, LIMITS);
      assertEquals(3, procs.size(), procs.toString());
      for (Path p : procs) {
        Path g = p.getParent();
        if (Files.exists(g.resolve("pids.max"))) assertEquals("77", Files.readString(g.resolve("pids.max")).trim());
        if (Files.exists(g.resolve("memory.limit_in_bytes"))) {
          assertEquals(String.valueOf(300L * 1024 * 1024), Files.readString(g.resolve("memory.limit_in_bytes")).trim());
        }
        if (Files.exists(g.resolve("cpu.shares"))) assertEquals("512", Files.readString(g.resolve("cpu.shares")).trim());
      }
    } finally {
      cgroups.remove(name);
    }
  }

  @Test
  void a_host_without_cgroups_says_which_limits_it_cannot_enforce_once_at_start_up() throws Exception {
    assumeBwrap();
    Path data = Files.createTempDirectory("sandbox-data");
    Logger logger = (Logger) LoggerFactory.getLogger(Sandbox.class);
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    logger.addAppender(seen);
    try {
      Sandbox sandbox = Sandbox.open("bwrap", data, Cgroups.none("no cgroup hierarchy is writable here"), Host.platformUid());
      sandbox.logReport();
      JsonObject report = sandbox.report();
      JsonObject unenforced = report.getJsonObject("unenforced");
      for (String limit : List.of("rss", "cpu")) {
        assertTrue(unenforced.getString(limit, "").contains("no cgroup hierarchy is writable here"), limit + ": " + report.encodePrettily());
      }
      assertTrue(report.getJsonObject("enforced").containsKey("openFiles"), report.encodePrettily());
      assertTrue(report.getJsonObject("enforced").containsKey("fileSystem"), report.encodePrettily());
      long warnings = seen.list.stream().filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().startsWith("Not enforced on this host: rss"))
          .count();
      assertEquals(1, warnings, "said once: " + seen.list);
    } finally {
      logger.detachAppender(seen);
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  @Test
  void a_restart_on_an_unchanged_host_trusts_the_last_check_and_a_changed_host_is_checked_again() throws Exception {
    assumeBwrap();
    Path data = Files.createTempDirectory("sandbox-data");
    try {
      Sandbox first = Sandbox.open("bwrap", data, Cgroups.none("not in this test"), Host.platformUid());
      assertTrue(first.checkedNow(), "a new data dir: checked");
      Sandbox second = Sandbox.open("bwrap", data, Cgroups.none("not in this test"), Host.platformUid());
      assertFalse(second.checkedNow(), "the same host: the record of the first check is trusted");
      assertEquals(first.report(), second.report());
      // another uid is another host to the check (as would be another kernel, boot, JDK or bubblewrap)
      assumeTrue(Host.platformUid() == 0, "setpriv needs root to play another platform user here");
      assertTrue(Sandbox.open("bwrap", data, Cgroups.none("not in this test"), 65534).checkedNow(), "another uid: checked again");
      // a record that does not parse is no record
      Files.writeString(data.resolve("sandbox-checked"), "garbage");
      assertTrue(Sandbox.open("bwrap", data, Cgroups.none("not in this test"), 65534).checkedNow(), "an unreadable record: checked again");
      assertFalse(Sandbox.open("bwrap", data, Cgroups.none("not in this test"), 65534).checkedNow(), "and recorded again");
    } finally {
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  @Test
  void without_a_sandbox_the_report_says_the_file_system_and_user_are_not_confined() throws Exception {
    Path data = Files.createTempDirectory("sandbox-data");
    try {
      JsonObject report = Sandbox.open("none", data, Cgroups.none("off"), Host.platformUid()).report();
      assertEquals("none", report.getString("sandbox"));
      for (String limit : List.of("fileSystem", "user", "tmp")) {
        assertTrue(report.getJsonObject("unenforced").containsKey(limit), report.encodePrettily());
      }
    } finally {
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  @Test
  void a_data_dir_that_every_sandbox_would_show_is_refused() {
    assumeBwrap();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Sandbox.open("bwrap", Path.of("/usr/local/ferry-data"), Cgroups.none("off"), Host.platformUid()));
    assertTrue(e.getMessage().contains("inside /usr"), e.getMessage());
  }

  @Test
  void a_platform_that_asks_for_bubblewrap_where_there_is_none_does_not_start_and_says_what_to_do() throws Exception {
    Path empty = Files.createTempDirectory("no-tools");
    Path data = Files.createTempDirectory("sandbox-data");
    try {
      ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
          System.getProperty("java.class.path"), "dev.ferry.Main", "server", "--api-port", "0", "--proxy-port", "0",
          "--data-dir", data.resolve("data").toString()).redirectErrorStream(true);
      pb.environment().keySet().removeIf(k -> k.startsWith("FERRY_"));
      // a PATH without bubblewrap on it
      pb.environment().put("PATH", empty.toString());
      Process p = pb.start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
      assertEquals(1, p.exitValue(), out);
      assertTrue(out.contains("bubblewrap is not installed") && out.contains("apt-get install bubblewrap") && out.contains("run.sandbox"), out);
      assertFalse(out.contains("Ferry is up"), out);
    } finally {
      Files.deleteIfExists(empty);
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  @Test
  void processes_of_the_sandbox_user_left_running_do_not_keep_a_platform_without_a_pids_cgroup_from_starting() throws Exception {
    assumeBwrap();
    assumeTrue(Host.platformUid() == 0, "the platform does not run as root here: no RLIMIT_NPROC is set");
    Path data = Files.createTempDirectory("sandbox-data");
    // as runners that outlived the last platform are: 100 processes of uid 65534, which RLIMIT_NPROC counts together
    Process others = new ProcessBuilder("setpriv", "--reuid=" + Sandbox.UID, "--regid=" + Sandbox.GID, "--clear-groups", "sh", "-c",
        "for i in $(seq 100); do sleep 60 & done; wait").start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (others.toHandle().descendants().count() < 100 && System.nanoTime() < deadline) Thread.sleep(20);
      assertEquals(100, others.toHandle().descendants().count(), "the other processes run");
      Sandbox sandbox = Sandbox.open("bwrap", data, Cgroups.none("not in this test"), 0);
      assertTrue(sandbox.sandboxed(), sandbox.report().encodePrettily());
    } finally {
      Sandbox.kill(others);
      dev.ferry.TestPlatform.deleteTree(data);
    }
  }

  private static void assumeBwrap() {
    assumeTrue(Sandbox.bwrapInstalled(), "bubblewrap (bwrap) is not installed: the sandbox cannot be tested here (CI installs it)");
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "finished: " + out);
    return out;
  }
}
