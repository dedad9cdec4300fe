package hello;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

/** Answers every request with a greeting. Listens where Ferry says (config http.port), else 8888. */
public class HelloVerticle extends VerticleBase {

  @Override
  public Future<?> start() {
    int port = config().getInteger("http.port", 8888);
    String host = config().getString("http.host", "0.0.0.0");
    return vertx.createHttpServer()
        .requestHandler(req -> req.response()
            .putHeader("content-type", "application/json")
            .end(new JsonObject()
                .put("message", "Hello from Ferry!")
                .put("path", req.path())
                .put("deployment", config().getString("ferry.deployment", "local"))
                .encode()))
        .listen(port, host);
  }
}
