package dev.ferry.cli;

import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.StateName;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code ferry deploy}: packs a directory, checks it against the server's upload limit, uploads it
 * with a progress bar (plain lines when not on a terminal), follows the build log live over the
 * WebSocket (reconnecting if it drops), and ends with the URL or the error.
 */
final class Deployer {

  /** The server's limit when it does not say (the platform's default). */
  static final long DEFAULT_UPLOAD_MAX_BYTES = 50L * 1024 * 1024;

  private final FerryClient client;
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean bar;
  private final boolean json;

  Deployer(FerryClient client, PrintWriter out, PrintWriter err, boolean bar, boolean json) {
    this.client = client;
    this.out = out;
    this.err = err;
    this.bar = bar;
    this.json = json;
  }

  /** Deploys {@code dir} as {@code name} (default: the directory's name); returns the exit code. */
  int deploy(Path dir, String name) {
    Path abs = dir.toAbsolutePath().normalize();
    String service = name != null ? name : defaultName(abs);
    Optional<String> problem = Deployment.nameProblem(service);
    if (problem.isPresent()) {
      err.println("ferry deploy: " + problem.get() + (name == null ? " (the directory's name; pass --name NAME)" : ""));
      return 1;
    }
    Path archive = null;
    try {
      archive = Files.createTempFile("ferry-upload", ".tar.gz");
      int files = Archives.pack(abs, archive);
      long size = Files.size(archive);
      JsonObject info = client.getOrNull("/api/v1/info");
      long max = info == null ? DEFAULT_UPLOAD_MAX_BYTES : info.getLong("uploadMaxBytes", DEFAULT_UPLOAD_MAX_BYTES);
      // refused here, before a byte is sent
      if (size > max) {
        err.printf("ferry deploy: the archive of %s is %s, over the server's upload limit of %s%n", abs, bytes(size), bytes(max));
        return 1;
      }
      note("Packed %d files from %s (%s)", files, abs, bytes(size));
      Progress progress = new Progress(size);
      JsonObject queued = client.upload(service, archive, size, progress::update);
      progress.done();
      note("Deployment %s of %s is %s", queued.getString("id"), service, queued.getString("state"));
      return awaitLive(queued.getString("id"), service, "Deployed " + service);
    } catch (Exception e) {
      err.println("ferry deploy: " + (e instanceof java.net.ConnectException ? ClientCommand.unreachable(client.server(), e)
          : e.getMessage() != null ? e.getMessage() : e.toString()));
      return 1;
    } finally {
      out.flush();
      err.flush();
      if (archive != null) {
        try {
          Files.deleteIfExists(archive);
        } catch (IOException ignored) {
          // a temp file
        }
      }
    }
  }

  /**
   * What {@code deploy} and {@code rollback} end with: follows deployment {@code id}'s log live
   * until it answers or fails, then prints
   * {@code done: URL} or the error, once (its lines were shown above). Returns the exit code.
   */
  int awaitLive(String id, String service, String done) throws InterruptedException {
    LogFilter filter = new LogFilter(null, null);
    JsonObject result = new LogFollower(client, json ? null : out, err, false, false, filter)
        .follow("/api/v1/deployments/" + id + "/logs").getJsonObject("deployment");
    if (json) out.println(result.encodePrettily());
    if (StateName.DEPLOYED.is(result.getString("state"))) {
      if (!json) out.println(done + ": " + result.getString("url"));
      return 0;
    }
    String error = result.getString("error", "");
    err.println("Deployment " + result.getString("id") + " of " + service + " ended in " + result.getString("state")
        + (result.containsKey("error") ? " (" + result.getString("stage") + "): "
        + (json ? error : error.lines().findFirst().orElse("") + (error.lines().count() > 1 ? " (in full above)" : "")) : ""));
    return 1;
  }

  private void note(String format, Object... args) {
    if (!json) out.printf(format + "%n", args);
  }

  static String defaultName(Path dir) {
    String n = dir.getFileName() == null ? "service" : dir.getFileName().toString().toLowerCase(Locale.ROOT)
        .replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
    return n.isEmpty() ? "service" : n;
  }

  static String bytes(long n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
  }

  /** The upload's progress: a redrawn bar on a terminal, a line per quarter otherwise. */
  private final class Progress {
    private final long total;
    private int shown = -1;

    Progress(long total) {
      this.total = total;
    }

    void update(long sent) {
      if (json) return;
      int pct = total == 0 ? 100 : (int) Math.min(100, sent * 100 / total);
      if (bar) {
        if (pct == shown) return;
        int filled = pct * 30 / 100;
        out.print("\rUploading [" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + pct + "% of " + bytes(total));
        out.flush();
      } else {
        if (pct / 25 == shown / 25 && shown >= 0) return;
        out.println("Uploading: " + pct + "% of " + bytes(total));
      }
      shown = pct;
    }

    void done() {
      update(total);
      if (bar && !json) out.println();
    }
  }
}
