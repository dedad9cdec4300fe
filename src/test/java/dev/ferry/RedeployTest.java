package dev.ferry;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A new deployment replaces the running one; a delete takes the service off the proxy. */
@Tag("platform")
class RedeployTest {

  // one platform per test
  @RegisterExtension
  final TestPlatform ferry = TestPlatform.defaults();

  @Test
  void a_redeploy_takes_traffic_and_stops_the_previous_one() {
    JsonObject first = ferry.deploy("hello", "app");
    JsonObject second = ferry.deploy("hello", "app");
    assertEquals("deployed", second.getString("state"));
    assertEquals(second.getString("id"), ferry.viaProxy("app", "/").bodyAsJsonObject().getString("deployment"));

    // the previous one is drained, then stopped
    JsonObject old = ferry.awaitState(first.getString("id"), "stopped");
    assertEquals("stopped", old.getString("state"));
    assertEquals(1, ferry.platform.runtime().runningCount());
    JsonObject svc = ferry.api(HttpMethod.GET, "/api/v1/services/app").bodyAsJsonObject();
    assertEquals(second.getString("id"), svc.getJsonObject("current").getString("id"));
    JsonArray history = ferry.api(HttpMethod.GET, "/api/v1/services/app/deployments").bodyAsJsonObject().getJsonArray("deployments");
    assertEquals(2, history.size());
    assertEquals(second.getString("id"), history.getJsonObject(0).getString("id"));
  }

  @Test
  void delete_undeploys_and_the_host_answers_404() {
    JsonObject d = ferry.deploy("hello", "doomed");
    assertEquals(200, ferry.viaProxy("doomed", "/").statusCode());
    var resp = ferry.api(HttpMethod.DELETE, "/api/v1/services/doomed");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    assertEquals(404, ferry.viaProxy("doomed", "/").statusCode());
    assertEquals("deleted", ferry.awaitState(d.getString("id"), "deleted").getString("state"));
    assertEquals(0, ferry.platform.runtime().runningCount());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/doomed").statusCode());
    assertTrue(ferry.api(HttpMethod.GET, "/api/v1/services").bodyAsJsonObject().getJsonArray("services").isEmpty());
    // its history stays
    assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/doomed/deployments").statusCode());
    assertEquals(404, ferry.api(HttpMethod.DELETE, "/api/v1/services/doomed").statusCode());
  }

  @Test
  void a_deleted_service_can_be_deployed_again() {
    ferry.deploy("hello", "phoenix");
    ferry.api(HttpMethod.DELETE, "/api/v1/services/phoenix");
    JsonObject again = ferry.deploy("hello", "phoenix");
    assertEquals("deployed", again.getString("state"));
    assertEquals(again.getString("id"), ferry.viaProxy("phoenix", "/").bodyAsJsonObject().getString("deployment"));
  }

}
