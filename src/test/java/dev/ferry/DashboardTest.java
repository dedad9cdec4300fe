package dev.ferry;

import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dashboard at / in headless Chromium, read over the DevTools protocol while a deploy happens. */
class DashboardTest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @Test
  void a_deploy_shows_up_live_with_its_log_state_and_url() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no " + CHROMIUM + ": skipping (.ci/run installs Debian's chromium)");
    Path profile = Files.createTempDirectory("ferry-chromium");
    Process browser = null;
    try (TestPlatform ferry = TestPlatform.start()) {
      browser = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
          "http://127.0.0.1:" + ferry.apiPort() + "/?token=" + TestPlatform.TOKEN).redirectErrorStream(true).start();
      Page page = Page.attach(ferry, browser);
      try {
        page.waitFor("document.getElementById('services').innerText", "No services yet");
        assertEquals("Ferry", page.eval("document.title"));

        var r = ferry.upload("dash-live", TestPlatform.pack("slow-start"));
        assertEquals(202, r.statusCode());
        String id = r.bodyAsJsonObject().getString("id");
        // the log view follows the new deployment over its WebSocket while it builds and starts
        page.waitFor("document.getElementById('log-title').innerText", id);
        page.waitFor("document.getElementById('log').innerText", "[extract]");
        page.waitFor("document.getElementById('log').innerText", "[swap]");
        page.waitFor("document.getElementById('log-state').innerText", "deployed");
        page.waitFor("document.querySelector('[data-service=\"dash-live\"]').innerText",
            "http://dash-live.localhost:" + ferry.proxyPort() + "/");
        page.waitFor("document.querySelector('[data-service=\"dash-live\"] .state').innerText", "deployed");
        page.waitFor("document.getElementById('history').innerText", id);
      } finally {
        page.close();
      }
    } finally {
      if (browser != null) {
        browser.destroy();
        if (!browser.waitFor(10, TimeUnit.SECONDS)) browser.destroyForcibly();
      }
      TestPlatform.deleteTree(profile);
    }
  }

  /** A page in the browser, driven with Runtime.evaluate over its DevTools WebSocket. */
  static final class Page {
    private final WebSocketClient client;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonObject>> calls = new ConcurrentHashMap<>();

    private Page(WebSocketClient client, WebSocket socket) {
      this.client = client;
      this.socket = socket;
    }

    static Page attach(TestPlatform ferry, Process browser) throws Exception {
      BufferedReader err = new BufferedReader(new InputStreamReader(browser.getInputStream(), StandardCharsets.UTF_8));
      String devtools = null;
      for (String line; devtools == null && (line = err.readLine()) != null; ) {
        int at = line.indexOf("ws://");
        if (line.contains("DevTools listening on") && at >= 0) devtools = line.substring(at).trim();
      }
      assertTrue(devtools != null, "chromium did not start its DevTools endpoint");
      // keep draining the browser's output so it never blocks on a full pipe
      Thread drain = new Thread(() -> {
        try {
          while (err.readLine() != null) { }
        } catch (java.io.IOException ignored) {
          // it exited
        }
      });
      drain.setDaemon(true);
      drain.start();
      URI uri = URI.create(devtools);
      String pageUrl = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (pageUrl == null && System.nanoTime() < deadline) {
        JsonArray targets = ferry.http.get(uri.getPort(), "127.0.0.1", "/json/list").send().await().bodyAsJsonArray();
        for (Object t : targets) {
          JsonObject target = (JsonObject) t;
          if ("page".equals(target.getString("type"))) pageUrl = target.getString("webSocketDebuggerUrl");
        }
        if (pageUrl == null) TestPlatform.sleep(100);
      }
      assertTrue(pageUrl != null, "no page target");
      WebSocketClient client = ferry.vertx.createWebSocketClient();
      Promise<Page> opened = Promise.promise();
      URI p = URI.create(pageUrl);
      client.connect(p.getPort(), p.getHost(), p.getRawPath()).onSuccess(ws -> {
        Page page = new Page(client, ws);
        ws.textMessageHandler(text -> {
          JsonObject msg = new JsonObject(text);
          CompletableFuture<JsonObject> call = msg.containsKey("id") ? page.calls.remove(msg.getInteger("id")) : null;
          if (call != null) call.complete(msg);
        });
        opened.complete(page);
      }).onFailure(opened::fail);
      return opened.future().await();
    }

    /** Evaluates {@code expression} in the page; its value as a string ("" when it throws). */
    String eval(String expression) {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonObject> call = new CompletableFuture<>();
      calls.put(id, call);
      socket.writeTextMessage(new JsonObject().put("id", id).put("method", "Runtime.evaluate")
          .put("params", new JsonObject().put("expression", "(() => { try { return String(" + expression + "); } catch (e) { return ''; } })()")
              .put("returnByValue", true)).encode());
      JsonObject result = call.orTimeout(10, TimeUnit.SECONDS).join();
      return result.getJsonObject("result").getJsonObject("result").getString("value", "");
    }

    /** Waits until {@code expression}'s value contains {@code expected}. */
    void waitFor(String expression, String expected) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      String last = "";
      while (System.nanoTime() < deadline) {
        last = eval(expression);
        if (last.contains(expected)) return;
        TestPlatform.sleep(100);
      }
      throw new AssertionError(expression + " never showed '" + expected + "'; last: " + last);
    }

    void close() {
      socket.close();
      client.close();
    }
  }
}
