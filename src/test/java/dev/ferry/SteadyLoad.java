package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Steady GETs, two at a time, until stopped: through the proxy to a service, or to any port (the API's /health). */
final class SteadyLoad {

  record Result(long ok, long failed, String firstFailure) {
  }

  private final HttpClient client;
  private final RequestOptions request;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong ok = new AtomicLong(), failed = new AtomicLong(), inFlight = new AtomicLong();
  private final AtomicReference<String> firstFailure = new AtomicReference<>();

  /** Load on {@code service} through the proxy. */
  SteadyLoad(TestPlatform ferry, String service) {
    this(ferry.vertx, new RequestOptions().setHost("127.0.0.1").setPort(ferry.proxyPort()).setURI("/")
        .putHeader("Host", service + ".localhost"));
  }

  SteadyLoad(Vertx vertx, RequestOptions request) {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    this.request = request.setIdleTimeout(5_000);
    for (int i = 0; i < 2; i++) next();
  }

  // each request starts the next from its completion handler: no future chain grows
  private void next() {
    if (!running.get()) return;
    inFlight.incrementAndGet();
    client.request(request).compose(req -> req.send().compose(resp -> resp.body().map(resp.statusCode())))
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result() == 200) {
            ok.incrementAndGet();
          } else {
            failed.incrementAndGet();
            firstFailure.compareAndSet(null, ar.succeeded() ? "status " + ar.result() : ar.cause().toString());
          }
          inFlight.decrementAndGet();
          next();
        });
  }

  Result stop() {
    running.set(false);
    long deadline = System.currentTimeMillis() + 10_000;
    while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) TestPlatform.sleep(10);
    client.close().await();
    return new Result(ok.get(), failed.get(), firstFailure.get());
  }
}
