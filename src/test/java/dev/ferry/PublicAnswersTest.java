package dev.ferry;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the API answers names no file of the server: no artifact path, no data dir in a message. */
@Tag("platform")
class PublicAnswersTest {

  @Test
  void api_answers_and_log_streams_show_no_server_path() throws Exception {
    try (TestPlatform ferry = TestPlatform.start()) {
      String dataDir = ferry.dataDir.toString(), real = ferry.dataDir.toRealPath().toString();
      List<String> answers = new ArrayList<>();
      String first = ferry.deploy("hello", "paths").getString("id");
      JsonObject second = ferry.deploy("chatty", "paths");
      for (String path : List.of("/api/v1/services", "/api/v1/services/paths", "/api/v1/services/paths/deployments",
          "/api/v1/deployments/" + first, "/api/v1/deployments/" + first + "/logs")) {
        var r = ferry.api(HttpMethod.GET, path);
        assertEquals(200, r.statusCode(), path);
        answers.add(r.bodyAsString());
      }
      JsonObject artifact = second.getJsonObject("artifact");
      assertTrue(artifact.getString("sha256") != null && !artifact.containsKey("path"), artifact.encode());
      LogWatcher watcher = LogWatcher.open(ferry, second.getString("id"), null).awaitClosed();
      watcher.frames.forEach(f -> answers.add(f.encode()));

      var rollback = ferry.rollback("paths", first);
      assertEquals(202, rollback.statusCode(), rollback.bodyAsString());
      answers.add(rollback.bodyAsString());
      ferry.awaitState(second.getString("id"), "stopped");

      // an error that names a file: where it is under the data dir, not the server's path
      Files.delete(ferry.platform.dataDir().artifact("paths", second.getString("id")));
      var gone = ferry.rollback("paths", second.getString("id"));
      assertEquals(409, gone.statusCode(), gone.bodyAsString());
      assertTrue(gone.bodyAsJsonObject().getString("message").contains("<data dir>/artifacts/paths/" + second.getString("id") + ".jar"),
          gone.bodyAsString());
      answers.add(gone.bodyAsString());

      for (String a : answers) {
        assertFalse(a.contains(dataDir) || a.contains(real), a);
        assertFalse(a.contains("\"path\""), a);
      }
    }
  }
}
