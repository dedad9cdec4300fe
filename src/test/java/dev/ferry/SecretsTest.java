package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code @Secret}: declared means required; the operator sets values through the API; a change
 * reaches the running service without an upload; the values appear in no answer, log, event,
 * metric or file in the clear.
 */
@Tag("platform")
class SecretsTest {

  // before the platform: its start is captured too
  static final LogCapture logs = LogCapture.ofAll();
  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  @AfterAll
  static void stop() {
    logs.close();
  }

  static HttpResponse<Buffer> put(String service, JsonObject body) {
    return ferry.http.put(ferry.apiPort(), "127.0.0.1", "/api/v1/services/" + service + "/secrets").sendJsonObject(body).await();
  }

  static String sha256(String s) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void a_missing_secret_fails_the_deploy_naming_it_then_set_deploys_and_a_change_reaches_the_running_service() throws Exception {
    String greeting = "hello-" + UUID.randomUUID(), apiKey = "sk_live_" + UUID.randomUUID(), rotated = "sk_rotated_" + UUID.randomUUID();

    // declared, not set: error at load, naming both and the command
    JsonObject failed = ferry.deploy("secrets", "keys");
    assertEquals("error", failed.getString("state"), failed.encodePrettily());
    assertEquals("load", failed.getString("stage"));
    assertTrue(failed.getString("error").contains("GREETING, API_KEY"), failed.getString("error"));
    assertTrue(failed.getString("error").contains("ferry secrets set keys GREETING=... API_KEY=..."), failed.getString("error"));

    // one set: still names the other
    assertEquals(200, put("keys", new JsonObject().put("GREETING", greeting)).statusCode());
    JsonObject stillFailing = ferry.deploy("secrets", "keys");
    assertEquals("error", stillFailing.getString("state"));
    assertTrue(stillFailing.getString("error").startsWith("Secret API_KEY of keys is declared"), stillFailing.getString("error"));

    // both set: the failed deployment is tried again from its artifact, and serves
    HttpResponse<Buffer> set = put("keys", new JsonObject().put("API_KEY", apiKey));
    assertEquals(200, set.statusCode(), set.bodyAsString());
    assertEquals(new JsonArray().add("API_KEY"), set.bodyAsJsonObject().getJsonArray("changed"));
    String first = set.bodyAsJsonObject().getJsonObject("deployment").getString("id");
    JsonObject serving = ferry.awaitFinal(first);
    assertEquals("deployed", serving.getString("state"), serving.encodePrettily());
    JsonObject seen = ferry.viaProxy("keys", "/").bodyAsJsonObject();
    assertEquals(first, seen.getString("deployment"));
    assertEquals(sha256(apiKey), seen.getJsonObject("sha256").getString("API_KEY"));
    assertEquals(sha256(greeting), seen.getJsonObject("sha256").getString("GREETING"));

    // rotate: the running service sees the new value without an upload, and no request fails on the way
    AtomicBoolean polling = new AtomicBoolean(true);
    AtomicInteger bad = new AtomicInteger(), good = new AtomicInteger();
    Thread poller = new Thread(() -> {
      while (polling.get()) {
        int status = ferry.viaProxy("keys", "/").statusCode();
        (status == 200 ? good : bad).incrementAndGet();
      }
    });
    poller.start();
    HttpResponse<Buffer> rotate = put("keys", new JsonObject().put("API_KEY", rotated).put("GREETING", greeting));
    assertEquals(200, rotate.statusCode(), rotate.bodyAsString());
    assertEquals(new JsonArray().add("API_KEY"), rotate.bodyAsJsonObject().getJsonArray("changed"), "GREETING did not change");
    String second = rotate.bodyAsJsonObject().getJsonObject("deployment").getString("id");
    assertNotEquals(first, second);
    assertEquals("deployed", ferry.awaitFinal(second).getString("state"));
    assertEquals("stopped", ferry.awaitState(first, "stopped").getString("state"));
    polling.set(false);
    poller.join();
    assertEquals(0, bad.get(), "requests failed during the restart (" + good.get() + " answered)");
    seen = ferry.viaProxy("keys", "/").bodyAsJsonObject();
    assertEquals(second, seen.getString("deployment"));
    assertEquals(sha256(rotated), seen.getJsonObject("sha256").getString("API_KEY"));
    // it reached the runner on its private channel only: not in its environment, not on its command line
    long pid = ferry.platform.runtime().runnerOf(second).orElseThrow().pid();
    String environ = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", String.valueOf(pid), "environ"));
    String cmdline = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", String.valueOf(pid), "cmdline"));
    assertFalse(environ.contains(rotated) || environ.contains(greeting) || cmdline.contains(rotated), "the runner's environment or command line");
    List<String> restartLog = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + second + "/logs").bodyAsString().lines().toList();
    assertTrue(restartLog.stream().noneMatch(l -> l.contains("\"stage\":\"compile\"")), "not rebuilt: " + restartLog);
    assertTrue(restartLog.stream().anyMatch(l -> l.contains("secrets changed: API_KEY")), restartLog.toString());

    // the same values again change nothing and restart nothing
    HttpResponse<Buffer> same = put("keys", new JsonObject().put("API_KEY", rotated));
    assertEquals(new JsonArray(), same.bodyAsJsonObject().getJsonArray("changed"));
    assertFalse(same.bodyAsJsonObject().containsKey("deployment"));

    // listed by name and time only
    JsonObject listed = ferry.api(HttpMethod.GET, "/api/v1/services/keys/secrets").bodyAsJsonObject();
    assertEquals(List.of("API_KEY", "GREETING"), listed.getJsonArray("secrets").stream().map(s -> ((JsonObject) s).getString("name")).toList());
    assertTrue(listed.getJsonArray("secrets").getJsonObject(0).containsKey("updatedAt"));

    // unset a declared one: the restart fails at load, the running deployment keeps serving
    HttpResponse<Buffer> unset = ferry.api(HttpMethod.DELETE, "/api/v1/services/keys/secrets/GREETING");
    assertEquals(200, unset.statusCode(), unset.bodyAsString());
    JsonObject refused = ferry.awaitFinal(unset.bodyAsJsonObject().getJsonObject("deployment").getString("id"));
    assertEquals("error", refused.getString("state"));
    assertTrue(refused.getString("error").contains("GREETING"), refused.getString("error"));
    assertEquals(second, ferry.viaProxy("keys", "/").bodyAsJsonObject().getString("deployment"));
    assertEquals(404, ferry.api(HttpMethod.DELETE, "/api/v1/services/keys/secrets/GREETING").statusCode());

    // the values are nowhere they must not be
    List<String> answers = new java.util.ArrayList<>();
    for (String path : List.of("/api/v1/services", "/api/v1/services/keys", "/api/v1/services/keys/deployments",
        "/api/v1/services/keys/secrets", "/api/v1/services/keys/resources", "/api/v1/deployments/" + second,
        "/api/v1/deployments/" + second + "/logs", "/api/v1/deployments/" + first + "/logs", "/metrics")) {
      answers.add(ferry.api(HttpMethod.GET, path).bodyAsString());
    }
    answers.add(set.bodyAsString());
    answers.add(rotate.bodyAsString());
    answers.add(unset.bodyAsString());
    for (String value : List.of(greeting, apiKey, rotated)) {
      assertTrue(answers.stream().noneMatch(a -> a.contains(value)), "an API answer");
      assertEquals(0, logs.count(null, value), "the platform log");
      assertTrue(ferry.events.all().stream().noneMatch(e -> e.encode().contains(value)), "ferry.events");
      assertEquals(List.of(), PostgresResourcesTest.filesContaining(ferry.dataDir, value), "files of the data dir (ledger, store)");
    }
    assertFalse(ferry.events.all().isEmpty());
  }

  @Test
  void bad_secrets_are_refused_with_400_and_unknown_services_with_404() {
    HttpResponse<Buffer> badKey = put("bad", new JsonObject().put("not a key", "x"));
    assertEquals(400, badKey.statusCode());
    assertTrue(badKey.bodyAsJsonObject().getString("message").contains("'not a key' is not a secret key"), badKey.bodyAsString());
    assertEquals(400, put("bad", new JsonObject().put("NUMBER", 42)).statusCode());
    assertEquals(400, put("bad", new JsonObject()).statusCode());
    HttpResponse<Buffer> notJson = ferry.http.put(ferry.apiPort(), "127.0.0.1", "/api/v1/services/bad/secrets")
        .sendBuffer(Buffer.buffer("KEY=value")).await();
    assertEquals(400, notJson.statusCode());
    assertEquals(400, put("Bad_Name", new JsonObject().put("K", "v")).statusCode());
    HttpResponse<Buffer> huge = ferry.http.put(ferry.apiPort(), "127.0.0.1", "/api/v1/services/bad/secrets")
        .sendBuffer(Buffer.buffer("{\"K\": \"" + "x".repeat(2 * 1024 * 1024) + "\"}")).await();
    assertEquals(413, huge.statusCode());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/nobody-home/secrets").statusCode());
    assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/nobody-home/resources").statusCode());
    assertEquals(401, ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", "/api/v1/services/bad/secrets").send().await().statusCode());
    // set before the first deploy: kept, nothing to restart
    HttpResponse<Buffer> early = put("early", new JsonObject().put("K", "v"));
    assertEquals(200, early.statusCode());
    assertFalse(early.bodyAsJsonObject().containsKey("deployment"));
    assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/early/secrets").statusCode());
  }
}
