package com.example.starter;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.Router;

public class MainVerticle extends VerticleBase {

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/hello").handler(ctx -> ctx.end("Hello from Vert.x!"));
    return vertx.createHttpServer()
      .requestHandler(router)
      .listen(config().getInteger("http.port", 8888));
  }
}
