package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An artifact changed on disk after its build (as if by someone with the platform's user, or a
 * disk that lies; a tenant cannot reach it, see HostileTenantsTest) is refused by its sha256 at
 * the next load, whatever loads it: a restart after a crash, a rollback, a platform restart. The
 * error names the file; the changed code never runs. A bystander serves steady requests meanwhile.
 */
@Tag("platform")
class IntegrityTest {

  @Test
  void a_changed_artifact_is_refused_at_a_crash_restart_a_rollback_and_a_platform_restart_naming_the_file() throws Exception {
    Path data = Files.createTempDirectory("ferry-integrity");
    TestPlatform ferry = TestPlatform.start(c -> c.with("dataDir", data));
    try {
      assertEquals("deployed", ferry.deploy("hello", "bystander").getString("state"));
      SteadyLoad load = new SteadyLoad(ferry, "bystander");
      String restored;
      try {
        // a crash restart
        JsonObject crashy = deploy(ferry, "crashy", "crashy");
        change(artifact(data, crashy));
        ProcessHandle.of(ferry.runnerPid("crashy")).orElseThrow().destroyForcibly();
        JsonObject crashed = ferry.awaitState(crashy.getString("id"), "crashed");
        assertEquals("crashed", crashed.getString("state"), crashed.encodePrettily());
        String log = ferry.api(HttpMethod.GET, "/api/v1/deployments/" + crashy.getString("id") + "/logs").bodyAsString();
        // the API names places under the data dir as <data dir>/...
        assertTrue(log.contains("restart failed: The artifact <data dir>/artifacts/crashy/" + crashy.getString("id") + ".jar of deployment "
            + crashy.getString("id") + " does not match the sha256 its build recorded"), log);
        assertNotEquals(200, ferry.viaProxy("crashy", "/").statusCode(), "the changed artifact never served");

        // a rollback
        JsonObject v1 = deploy(ferry, "rolled", "v1");
        JsonObject v2 = deploy(ferry, "rolled", "v2");
        ferry.awaitState(v1.getString("id"), "stopped");
        change(artifact(data, v1));
        HttpResponse<Buffer> rollback = ferry.rollback("rolled", v1.getString("id"));
        assertEquals(202, rollback.statusCode(), rollback.bodyAsString());
        // the rollback is a deployment of its own, with its own link to v1's artifact
        String back = rollback.bodyAsJsonObject().getString("id");
        JsonObject refused = ferry.awaitState(back, "error");
        assertEquals("load", refused.getString("stage"), refused.encodePrettily());
        assertTrue(refused.getString("error").contains("The artifact <data dir>/artifacts/rolled/" + back + ".jar")
            && refused.getString("error").contains("sha256"), refused.getString("error"));
        assertEquals(v2.getString("id"), ferry.viaProxy("rolled", "/").bodyAsJsonObject().getString("deployment"),
            "the version that served keeps serving");

        // a platform restart
        JsonObject third = deploy(ferry, "restored", "restored");
        restored = third.getString("id");
        change(artifact(data, third));
      } finally {
        SteadyLoad.Result r = load.stop();
        assertTrue(r.ok() > 0, "the bystander was under load: " + r);
        assertEquals(0, r.failed(), "the bystander failed requests: " + r);
      }
      ferry.close();
      ferry = TestPlatform.start(c -> c.with("dataDir", data));
      ferry.platform.restored().await();
      JsonObject after = ferry.awaitState(restored, "error");
      assertEquals("error", after.getString("state"), after.encodePrettily());
      assertEquals("load", after.getString("stage"));
      assertTrue(after.getString("error").contains("<data dir>/artifacts/restored/" + restored + ".jar")
          && after.getString("error").contains("does not match the sha256"), after.getString("error"));
      assertEquals(200, ferry.anonymous.get(ferry.apiPort(), "127.0.0.1", "/health").send().await().statusCode());
      assertEquals(200, ferry.viaProxy("bystander", "/").statusCode(), "the others are restored");
    } finally {
      ferry.close();
      TestPlatform.deleteTree(data);
    }
  }

  /** Deploys hello answering {@code marker} for "world": a source of its own, so an artifact of its own (no build-cache link). */
  private static JsonObject deploy(TestPlatform ferry, String service, String marker) throws Exception {
    Path tree = HostileTenantsTest.copyFixture("hello", java.util.Map.of("\"world\"", "\"" + marker + "\""), java.util.Map.of());
    try {
      JsonObject d = ferry.awaitFinal(ferry.upload(service, TestPlatform.packDir(tree)).bodyAsJsonObject().getString("id"));
      assertEquals("deployed", d.getString("state"), d.encodePrettily());
      return d;
    } finally {
      TestPlatform.deleteTree(tree);
    }
  }

  /** Where a deployment's artifact is (the API does not say: it shows no server paths). */
  private static Path artifact(Path data, JsonObject deployment) {
    return data.resolve("artifacts").resolve(deployment.getString("service")).resolve(deployment.getString("id") + ".jar");
  }

  /** Appends to a (read-only) artifact, as only someone with the platform's user could. */
  private static void change(Path jar) throws Exception {
    assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(jar)));
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    Files.write(jar, new byte[] {'P', 'K', 0, 0}, StandardOpenOption.APPEND);
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("r--r--r--"));
  }
}
