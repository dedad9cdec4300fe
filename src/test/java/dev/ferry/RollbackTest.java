package dev.ferry;

import dev.ferry.cli.FerryCommand;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * POST /api/v1/services/{name}/rollback and {@code ferry rollback}: an earlier artifact serves
 * again, not rebuilt, as a new deployment that names the one it rolls back to.
 */
@Tag("platform")
class RollbackTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  static HttpResponse<Buffer> rollback(String service, JsonObject body) {
    return ferry.rollback(service, body == null ? null : body.getString("deployment"));
  }

  static long compileLines(String id) {
    return ferry.platform.ledger().logs(id).stream().filter(l -> "compile".equals(l.stage())).count();
  }

  @Test
  void rollback_serves_the_previous_artifact_again_as_a_new_deployment_without_a_rebuild() {
    String v1 = ferry.deploy("hello", "rb").getString("id");
    String v2 = ferry.deploy("uses-sdk", "rb").getString("id");
    assertEquals("sdk says rb", ferry.viaProxy("rb", "/").bodyAsString());
    long compiled = compileLines(v1);

    HttpResponse<Buffer> r = rollback("rb", null);
    assertEquals(202, r.statusCode(), r.bodyAsString());
    String back = r.bodyAsJsonObject().getString("id");
    assertNotEquals(v1, back, "a rollback is a deployment of its own");
    assertNotEquals(v2, back);
    assertEquals(v1, r.bodyAsJsonObject().getString("source"), "it names the deployment it rolls back to");
    assertEquals("built", r.bodyAsJsonObject().getString("state"));
    assertEquals("/api/v1/deployments/" + back, r.getHeader("Location"));
    JsonObject deployed = ferry.awaitFinal(back);
    assertEquals("deployed", deployed.getString("state"), deployed.encodePrettily());
    assertEquals(List.of("built", "loaded", "deployed"), List.copyOf(deployed.getJsonObject("timeline").fieldNames()), deployed.encodePrettily());
    assertEquals(v1, deployed.getString("source"));
    assertEquals(ferry.api(HttpMethod.GET, "/api/v1/deployments/" + v1).bodyAsJsonObject().getJsonObject("artifact").getString("sha256"),
        deployed.getJsonObject("artifact").getString("sha256"), "the artifact of v1");
    assertEquals(back, ferry.viaProxy("rb", "/").bodyAsJsonObject().getString("deployment"));
    assertEquals(0, compileLines(back), "a rollback compiles nothing");
    assertEquals(compiled, compileLines(v1));
    assertEquals("stopped", ferry.awaitState(v2, "stopped").getString("state"));
    assertEquals("stopped", ferry.api(HttpMethod.GET, "/api/v1/deployments/" + v1).bodyAsJsonObject().getString("state"),
        "v1 is not rewound: it stays stopped");
    assertEquals(back, ferry.api(HttpMethod.GET, "/api/v1/services/rb").bodyAsJsonObject().getJsonObject("current").getString("id"));

    // nothing older than v1 to go back to (nor to v1 itself, which serves); but forward to v2 by id
    assertEquals(409, rollback("rb", null).statusCode());
    HttpResponse<Buffer> same = rollback("rb", new JsonObject().put("deployment", v1));
    assertEquals(409, same.statusCode());
    assertTrue(same.bodyAsJsonObject().getString("message").contains("already serving"), same.bodyAsString());
    HttpResponse<Buffer> forward = rollback("rb", new JsonObject().put("deployment", v2));
    assertEquals(202, forward.statusCode());
    String again = forward.bodyAsJsonObject().getString("id");
    assertEquals(v2, forward.bodyAsJsonObject().getString("source"));
    assertEquals("deployed", ferry.awaitFinal(again).getString("state"));
    assertEquals("sdk says rb", ferry.viaProxy("rb", "/").bodyAsString());
    assertEquals("stopped", ferry.awaitState(back, "stopped").getString("state"));
  }

  @Test
  void rollback_refuses_what_it_cannot_do_with_a_clear_status() {
    String good = ferry.deploy("hello", "refuse").getString("id");
    String broken = ferry.deploy("compile-error", "refuse").getString("id");
    assertEquals(404, rollback("no-such-service", null).statusCode());
    HttpResponse<Buffer> unknown = rollback("refuse", new JsonObject().put("deployment", "nope"));
    assertEquals(404, unknown.statusCode());
    assertEquals("not_found", unknown.bodyAsJsonObject().getString("error"));
    HttpResponse<Buffer> failed = rollback("refuse", new JsonObject().put("deployment", broken));
    assertEquals(409, failed.statusCode());
    assertTrue(failed.bodyAsJsonObject().getString("message").contains("error"), failed.bodyAsString());
    HttpResponse<Buffer> current = rollback("refuse", new JsonObject().put("deployment", good));
    assertEquals(409, current.statusCode());
    assertTrue(current.bodyAsJsonObject().getString("message").contains("already serving"), current.bodyAsString());
    HttpResponse<Buffer> bad = ferry.http.post(ferry.apiPort(), "127.0.0.1", "/api/v1/services/refuse/rollback")
        .sendBuffer(Buffer.buffer("not json")).await();
    assertEquals(400, bad.statusCode());
  }

  @Test
  void ferry_rollback_name_rolls_back_through_the_api() {
    String v1 = ferry.deploy("hello", "cli-rb").getString("id");
    ferry.deploy("uses-sdk", "cli-rb");
    int code = new CommandLine(new FerryCommand()).execute("rollback", "cli-rb", "--server", "http://127.0.0.1:" + ferry.apiPort(), "--token", TestPlatform.TOKEN);
    assertEquals(0, code);
    // the newest deployment is the rollback, and it serves when the command returns
    JsonObject back = ferry.api(HttpMethod.GET, "/api/v1/services/cli-rb/deployments").bodyAsJsonObject().getJsonArray("deployments").getJsonObject(0);
    assertEquals(v1, back.getString("source"), back.encodePrettily());
    assertEquals(back.getString("id"), ferry.viaProxy("cli-rb", "/").bodyAsJsonObject().getString("deployment"));
    assertEquals("deployed", ferry.awaitFinal(back.getString("id")).getString("state"));
    assertEquals(1, new CommandLine(new FerryCommand()).execute("rollback", "cli-rb", "--server", "http://127.0.0.1:" + ferry.apiPort(), "--token", TestPlatform.TOKEN));
  }
}
