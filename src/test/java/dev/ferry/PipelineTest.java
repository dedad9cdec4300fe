package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole pipeline over real HTTP: upload a real tar.gz, build, load, run, call through the proxy. */
@Tag("platform")
class PipelineTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  @Test
  void upload_answers_202_queued_and_the_service_answers_through_the_proxy() {
    HttpResponse<Buffer> r = ferry.upload("hello", TestPlatform.pack("hello"));
    assertEquals(202, r.statusCode(), r.bodyAsString());
    JsonObject queued = r.bodyAsJsonObject();
    assertEquals("queued", queued.getString("state"));
    assertEquals("hello", queued.getString("service"));
    assertNotNull(queued.getString("createdAt"));
    assertEquals("/api/v1/deployments/" + queued.getString("id"), r.getHeader("Location"));

    JsonObject d = ferry.awaitFinal(queued.getString("id"));
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals("http://hello.localhost:" + ferry.proxyPort() + "/", d.getString("url"));
    assertTrue(d.getJsonObject("timeline").fieldNames().containsAll(java.util.Set.of("queued", "built", "loaded", "deployed")));

    HttpResponse<Buffer> answer = ferry.viaProxy("hello", "/some/path");
    assertEquals(200, answer.statusCode());
    JsonObject body = answer.bodyAsJsonObject();
    assertEquals("world", body.getString("hello"));
    assertEquals("/some/path", body.getString("path"));
    assertEquals(d.getString("id"), body.getString("deployment"));
  }

  @Test
  void a_rest_service_on_vertx_web_with_resources_works() {
    JsonObject d = ferry.deploy("rest", "todos");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals("fixture.rest.TodoApi", d.getJsonObject("artifact").getString("entry"));
    int port = ferry.proxyPort();
    HttpResponse<Buffer> created = ferry.http.post(port, "127.0.0.1", "/todos").putHeader("Host", "todos.localhost")
        .sendJsonObject(new JsonObject().put("title", "ship it")).await();
    assertEquals(201, created.statusCode());
    assertEquals(1, created.bodyAsJsonObject().getInteger("id"));
    JsonArray all = ferry.viaProxy("todos", "/todos").bodyAsJsonArray();
    assertEquals("ship it", all.getJsonObject(0).getString("title"));
    assertEquals(404, ferry.viaProxy("todos", "/todos/7").statusCode());
    assertEquals("Hello from a resource", ferry.viaProxy("todos", "/greeting").bodyAsJsonObject().getString("greeting"));
  }

  @Test
  void main_verticle_in_the_pom_picks_the_entry_among_several() {
    JsonObject d = ferry.deploy("two-verticles", "two");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals("main with helper", ferry.viaProxy("two", "/").bodyAsString());
  }

  @Test
  void a_service_may_use_the_sdk() {
    JsonObject d = ferry.deploy("uses-sdk", "sdk-user");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertEquals("sdk says sdk-user", ferry.viaProxy("sdk-user", "/").bodyAsString());
  }

  @Test
  void service_listing_and_history_report_the_states() {
    JsonObject d = ferry.deploy("hello", "listed");
    JsonObject svc = ferry.api(HttpMethod.GET, "/api/v1/services/listed").bodyAsJsonObject();
    assertEquals("listed", svc.getString("name"));
    assertEquals(d.getString("url"), svc.getString("url"));
    assertEquals(d.getString("id"), svc.getJsonObject("current").getString("id"));

    JsonArray services = ferry.api(HttpMethod.GET, "/api/v1/services").bodyAsJsonObject().getJsonArray("services");
    assertTrue(services.stream().anyMatch(s -> ((JsonObject) s).getString("name").equals("listed")));

    JsonArray history = ferry.api(HttpMethod.GET, "/api/v1/services/listed/deployments").bodyAsJsonObject().getJsonArray("deployments");
    assertEquals(d.getString("id"), history.getJsonObject(0).getString("id"));

    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/never-heard-of").statusCode());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/deployments/nope").statusCode());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/never-heard-of/deployments").statusCode());
    assertEquals(200, ferry.api(HttpMethod.GET, "/health").statusCode());
  }

  @Test
  void the_deployment_log_tells_the_stages() {
    JsonObject d = ferry.deploy("hello", "logged");
    var lines = ferry.platform.ledger().logs(d.getString("id"));
    assertFalse(lines.isEmpty());
    var stages = lines.stream().map(l -> l.stage()).toList();
    assertTrue(stages.containsAll(java.util.List.of("extract", "load", "deploy", "swap")), stages.toString());
    // compiled, or (hello was deployed before in this platform) taken from the build cache
    assertTrue(stages.containsAll(java.util.List.of("compile", "package")) || stages.contains("build"), stages.toString());
  }
}
