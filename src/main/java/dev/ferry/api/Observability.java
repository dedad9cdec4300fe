package dev.ferry.api;

import dev.ferry.Config;
import dev.ferry.Meters;
import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.LedgerReader;
import dev.ferry.deployment.StateName;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;

/**
 * What the API port offers to watch the platform: deployment logs (NDJSON and WebSocket), the
 * event-bus bridges (SockJS at {@code /eventbus}, TCP on its own port when enabled), Prometheus
 * metrics at {@code /metrics}, and the dashboard at {@code /}. See docs/OBSERVABILITY.md.
 */
public final class Observability {

  private static final Logger log = LoggerFactory.getLogger(Observability.class);
  /** Addresses external clients may listen on; they may send nothing. */
  private static final String LOGS_REGEX = "ferry\\.logs\\.[0-9a-z]+";

  private final Vertx vertx;
  private final Config config;
  private final LedgerReader ledger;
  private final ApiToken token;
  private final PublicView view;
  private JsonObject info = new JsonObject();

  Observability(Vertx vertx, Config config, LedgerReader ledger, ApiToken token, PublicView view) {
    this.vertx = vertx;
    this.config = config;
    this.ledger = ledger;
    this.token = token;
    this.view = view;
  }

  /** What {@code /api/v1/info} says besides the upload limit and the domain (the sandbox, the limits). */
  public Observability withInfo(JsonObject info) {
    this.info = info.copy();
    return this;
  }

  /** Mounts the routes on the API's router; call it after the token check for {@code /api/*}. */
  public void mount(Router router) {
    LogStream logs = new LogStream(vertx, ledger, LogStream.DEFAULT_MAX_PENDING, view);
    router.get("/api/v1/deployments/:id/logs").handler(logs::handle);
    router.get("/api/v1/services/:name/logs").handler(logs::handleService);
    router.get("/api/v1/info").handler(ctx -> ctx.json(info.copy().put("uploadMaxBytes", config.upload().maxBytes())
        .put("domain", config.domain())));
    if (!config.api().metricsPublic()) router.get("/metrics").handler(token::check);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(Meters.registry(vertx)));
    router.route("/eventbus/*").handler(token::check);
    // no inbound address is permitted: a send or publish is answered access_denied
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(bridgeOptions(new SockJSBridgeOptions()), event -> {
      if (event.type() == BridgeEventType.RECEIVE) withoutPaths(event);
      event.complete(true);
    }));
    router.get("/").handler(StaticHandler.create("webroot").setCachingEnabled(false));
  }

  /** Starts the event meters and, when enabled, the TCP bridge; call it from the API's start. */
  public Future<Void> start() {
    countDeployments(Meters.registry(vertx));
    if (!config.tcpBridge().enabled()) return Future.succeededFuture();
    TcpEventBusBridge tcpBridge = TcpEventBusBridge.create(vertx, bridgeOptions(new BridgeOptions()), new NetServerOptions(), event -> {
      JsonObject raw = event.getRawMessage();
      JsonObject headers = raw == null ? null : raw.getJsonObject("headers");
      // each registration carries the token in its headers; sends meet the (empty) inbound permissions
      event.complete(event.type() != BridgeEventType.REGISTER || token.matches(headers == null ? null : headers.getString("token")));
    });
    return tcpBridge.listen(config.tcpBridge().port(), config.host())
        .onSuccess(b -> log.info("TCP event-bus bridge on {}:{}", config.host(), config.tcpBridge().port()))
        .mapEmpty();
  }

  /**
   * What goes out on the SockJS bridge shows no server paths (a deployment's artifact, say). The TCP
   * bridge has no such hook: it sends what is published as it is (see docs/OBSERVABILITY.md).
   */
  private void withoutPaths(io.vertx.ext.bridge.BaseBridgeEvent event) {
    if (event.getRawMessage() != null) event.setRawMessage(view.of(event.getRawMessage()));
  }

  private static <T extends BridgeOptions> T bridgeOptions(T options) {
    options.addOutboundPermitted(new PermittedOptions().setAddress(Addresses.EVENTS))
        .addOutboundPermitted(new PermittedOptions().setAddressRegex(LOGS_REGEX));
    return options;
  }

  /** The states {@code ferry_deployments_total} counts: where a deployment's way through the pipeline ends. */
  private static final java.util.Set<StateName> FINAL = java.util.EnumSet.of(StateName.DEPLOYED, StateName.FAILED, StateName.STOPPED,
      StateName.DELETED);

  /** {@code ferry_deployments_total{state}} and {@code ferry_deploy_duration_seconds}, from {@code ferry.events}. */
  private void countDeployments(MeterRegistry registry) {
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
      JsonObject e = m.body();
      String state = e.getString("state");
      if (e.getString("id") == null || !StateName.in(FINAL, state)) return;
      JsonObject timeline = e.getJsonObject("timeline");
      // a sleeping deployment woken is no new deployment
      if (StateName.DEPLOYED.is(state) && timeline != null && timeline.containsKey(StateName.SLEEPING.wire())) return;
      Counter.builder("ferry.deployments").description("Deployments that reached a final state, by state")
          .tag("state", state).register(registry).increment();
      if (StateName.DEPLOYED.is(state) && timeline != null && timeline.containsKey(StateName.LOADED.wire())) {
        Timer.builder("ferry.deploy.duration").description("From loaded to deployed: verticle start and first HTTP answer")
            .register(registry).record(Duration.between(Instant.parse(timeline.getString(StateName.LOADED.wire())),
                Instant.parse(timeline.getString(StateName.DEPLOYED.wire()))));
      }
    });
  }
}
