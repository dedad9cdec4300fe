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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /api/v1/services/{name}/rollback and {@code ferry rollback}: an earlier artifact serves again, not rebuilt. */
@Tag("platform")
class RollbackTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  static HttpResponse<Buffer> rollback(String service, JsonObject body) {
    return ferry.rollback(service, body == null ? null : body.getString("deployment"));
  }

  static long compileLines(String id) {
    return ferry.platform.ledger().logs(id).stream().filter(l -> "compile".equals(l.getString("stage"))).count();
  }

  @Test
  void rollback_serves_the_previous_deployment_again_under_its_own_id_without_a_rebuild() {
    String v1 = ferry.deploy("hello", "rb").getString("id");
    String v2 = ferry.deploy("uses-sdk", "rb").getString("id");
    assertEquals("sdk says rb", ferry.viaProxy("rb", "/").bodyAsString());
    long compiled = compileLines(v1);

    HttpResponse<Buffer> r = rollback("rb", null);
    assertEquals(202, r.statusCode(), r.bodyAsString());
    assertEquals(v1, r.bodyAsJsonObject().getString("id"));
    assertEquals("built", r.bodyAsJsonObject().getString("state"));
    assertEquals("/api/v1/deployments/" + v1, r.getHeader("Location"));
    JsonObject back = ferry.awaitFinal(v1);
    assertEquals("deployed", back.getString("state"), back.encodePrettily());
    assertTrue(back.getJsonObject("timeline").containsKey("reactivated"));
    assertEquals(v1, ferry.viaProxy("rb", "/").bodyAsJsonObject().getString("deployment"));
    assertEquals(compiled, compileLines(v1), "a rollback compiles nothing");
    assertEquals("stopped", ferry.awaitState(v2, "stopped").getString("state"));
    assertEquals(v1, ferry.api(HttpMethod.GET, "/api/v1/services/rb").bodyAsJsonObject().getJsonObject("current").getString("id"));

    // nothing older than v1 to go back to; but forward to v2 by id
    assertEquals(409, rollback("rb", null).statusCode());
    assertEquals(409, rollback("rb", new JsonObject().put("deployment", v1)).statusCode());
    assertEquals(202, rollback("rb", new JsonObject().put("deployment", v2)).statusCode());
    assertEquals("deployed", ferry.awaitFinal(v2).getString("state"));
    assertEquals("sdk says rb", ferry.viaProxy("rb", "/").bodyAsString());
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
    assertEquals("deployed", ferry.awaitFinal(v1).getString("state"));
    assertEquals(v1, ferry.viaProxy("cli-rb", "/").bodyAsJsonObject().getString("deployment"));
    assertEquals(1, new CommandLine(new FerryCommand()).execute("rollback", "cli-rb", "--server", "http://127.0.0.1:" + ferry.apiPort(), "--token", TestPlatform.TOKEN));
  }
}
