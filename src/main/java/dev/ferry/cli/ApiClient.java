package dev.ferry.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

/** Calls of the Ferry API the CLI makes; each answers the JSON body or fails with the API's message. */
public final class ApiClient implements AutoCloseable {

  private final String api;
  private final Vertx vertx = Vertx.vertx();
  private final WebClient client = WebClient.create(vertx);

  public ApiClient(String api) {
    this.api = api.endsWith("/") ? api.substring(0, api.length() - 1) : api;
  }

  /** The API URL a command uses: {@code --server}, else {@code FERRY_SERVER}, else the local default. */
  public static String server(String option) {
    return option != null ? option : System.getenv().getOrDefault("FERRY_SERVER", "http://127.0.0.1:8000");
  }

  /** {@code POST /api/v1/services/{service}/rollback}: to {@code deploymentId}, or the previous one if null. */
  public Future<JsonObject> rollback(String service, String deploymentId) {
    JsonObject body = deploymentId == null ? new JsonObject() : new JsonObject().put("deployment", deploymentId);
    return client.postAbs(api + "/api/v1/services/" + service + "/rollback").sendJsonObject(body)
        .compose(r -> r.statusCode() == 202 ? Future.succeededFuture(r.bodyAsJsonObject()) : Future.failedFuture(problem(r)));
  }

  static String problem(HttpResponse<Buffer> resp) {
    String msg;
    try {
      msg = resp.bodyAsJsonObject().getString("message");
    } catch (RuntimeException e) {
      msg = resp.bodyAsString();
    }
    return "HTTP " + resp.statusCode() + ": " + msg;
  }

  @Override
  public void close() {
    client.close();
    vertx.close();
  }
}
