package dev.ferry.cli;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Packs a directory, uploads it to a Ferry API, and waits for the deployment's final state. */
public final class Deployer {

  private static final Set<String> FINAL = Set.of("deployed", "error", "stopped", "deleted");

  private final String api;
  private final PrintStream out;
  private final PrintStream err;

  public Deployer(String api, PrintStream out, PrintStream err) {
    this.api = api.endsWith("/") ? api.substring(0, api.length() - 1) : api;
    this.out = out;
    this.err = err;
  }

  /** Deploys {@code dir} as {@code name} (default: the directory's name); returns the exit code. */
  public int deploy(Path dir, String name) {
    Path abs = dir.toAbsolutePath().normalize();
    String service = name != null ? name : defaultName(abs);
    Path archive = null;
    Vertx vertx = Vertx.vertx();
    try {
      archive = Files.createTempFile("ferry-upload", ".tar.gz");
      int files = Archives.pack(abs, archive);
      out.printf("Packed %d files from %s (%d bytes)%n", files, abs, Files.size(archive));
      WebClient client = WebClient.create(vertx);
      JsonObject result = await(upload(vertx, client, service, archive)
          .compose(queued -> {
            out.printf("Uploaded: deployment %s of %s is %s%n", queued.getString("id"), service, queued.getString("state"));
            return waitForFinal(vertx, client, queued.getString("id"), queued.getString("state"));
          }));
      if ("deployed".equals(result.getString("state"))) {
        out.println("Deployed " + service + ": " + result.getString("url"));
        return 0;
      }
      err.println("Deployment " + result.getString("id") + " ended in " + result.getString("state")
          + (result.containsKey("error") ? " (" + result.getString("stage") + "):\n" + result.getString("error") : ""));
      return 1;
    } catch (Exception e) {
      err.println("ferry deploy: " + (e.getMessage() != null ? e.getMessage() : e));
      return 1;
    } finally {
      if (archive != null) {
        try {
          Files.deleteIfExists(archive);
        } catch (IOException ignored) {
          // a temp file
        }
      }
      vertx.close();
    }
  }

  static String defaultName(Path dir) {
    String n = dir.getFileName() == null ? "service" : dir.getFileName().toString().toLowerCase(Locale.ROOT)
        .replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
    return n.isEmpty() ? "service" : n;
  }

  private Future<JsonObject> upload(Vertx vertx, WebClient client, String service, Path archive) {
    return vertx.fileSystem().open(archive.toString(), new OpenOptions().setRead(true))
        .compose(file -> client.postAbs(api + "/api/v1/services/" + service + "/deployments")
            .putHeader("content-type", "application/gzip")
            .putHeader("content-length", String.valueOf(archive.toFile().length()))
            .sendStream(file))
        .compose(resp -> resp.statusCode() == 202 ? Future.succeededFuture(resp.bodyAsJsonObject()) : Future.failedFuture(problem(resp)));
  }

  private Future<JsonObject> waitForFinal(Vertx vertx, WebClient client, String id, String lastState) {
    Promise<JsonObject> p = Promise.promise();
    poll(vertx, client, id, lastState, p);
    return p.future();
  }

  private void poll(Vertx vertx, WebClient client, String id, String lastState, Promise<JsonObject> p) {
    client.getAbs(api + "/api/v1/deployments/" + id).send().onComplete(ar -> {
      if (ar.failed()) {
        p.fail(ar.cause());
        return;
      }
      if (ar.result().statusCode() != 200) {
        p.fail(problem(ar.result()));
        return;
      }
      JsonObject d = ar.result().bodyAsJsonObject();
      String state = d.getString("state");
      if (!state.equals(lastState)) out.println("  " + state);
      if (FINAL.contains(state)) p.complete(d);
      else vertx.setTimer(50, t -> poll(vertx, client, id, state, p));
    });
  }

  private static String problem(HttpResponse<?> resp) {
    String msg;
    try {
      msg = resp.bodyAsJsonObject().getString("message");
    } catch (RuntimeException e) {
      msg = resp.bodyAsString();
    }
    return "HTTP " + resp.statusCode() + ": " + msg;
  }

  private static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }
}
