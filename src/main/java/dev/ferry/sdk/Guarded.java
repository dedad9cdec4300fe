package dev.ferry.sdk;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * What a service's {@code server.requestHandler(handler)} becomes when Ferry loads it (the loader
 * rewrites the call; services never call this themselves): a handler that throws fails only its
 * own request, with a 500 (or a reset, when the response had already begun); the exception goes to
 * the deployment's log and still reaches Vert.x (the platform log). Plain Vert.x would leave the
 * request unanswered. A Vert.x Web {@code Router} answers 500 by itself; wrapping it changes
 * nothing.
 */
public final class Guarded {

  private Guarded() {
  }

  public static HttpServer requestHandler(HttpServer server, Handler<HttpServerRequest> handler) {
    if (handler == null) return server.requestHandler(null);
    return server.requestHandler(req -> {
      try {
        handler.handle(req);
      } catch (Throwable t) {
        java.io.StringWriter trace = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(trace));
        ServiceLog.error("The request handler threw on " + req.method() + " " + req.uri() + ": " + trace.toString().stripTrailing());
        HttpServerResponse resp = req.response();
        if (!resp.ended()) {
          if (resp.headWritten()) {
            resp.reset();
          } else {
            resp.setStatusCode(500).putHeader("content-type", "text/plain; charset=utf-8")
                .end("Internal Server Error: the service's request handler threw " + t.getClass().getName());
          }
        }
        throw t;
      }
    });
  }
}
