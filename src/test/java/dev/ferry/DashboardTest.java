package dev.ferry;

import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.vertx.core.http.HttpMethod;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard at / in headless Chromium, driven over the DevTools protocol: logging in, a deploy
 * followed live, the meters, a screenshot of the service table, rollback and delete with their dialogs.
 */
@Tag("platform")
class DashboardTest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @Test
  void the_dashboard_logs_in_once_follows_deploys_shows_meters_and_rolls_back_and_deletes() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "no " + CHROMIUM + ": skipping (.ci/run installs Debian's chromium)");
    Path profile = Files.createTempDirectory("ferry-chromium");
    Process browser = null;
    try (TestPlatform ferry = TestPlatform.start()) {
      browser = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--window-size=1400,1000", "--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
          "http://127.0.0.1:" + ferry.apiPort() + "/?token=" + TestPlatform.TOKEN).redirectErrorStream(true).start();
      Page page = Page.attach(ferry, browser);
      try {
        page.waitFor("document.getElementById('services').innerText", "No services yet");
        assertEquals("Ferry", page.eval("document.title"));
        // the token from the URL is kept in this browser and gone from the address bar
        assertEquals("", page.eval("location.search"));
        assertEquals(TestPlatform.TOKEN, page.eval("localStorage.getItem('ferry.token')"));
        // the page before the reload is marked: the wait below must see the new one, not the old one still showing
        page.eval("window.ferryBeforeReload = true");
        page.eval("location.reload()");
        page.waitFor("(window.ferryBeforeReload ? 'old' : 'new') + ' ' + document.getElementById('services').innerText", "new No services yet");
        assertEquals("true", page.eval("document.getElementById('login').hidden"), "still logged in after a reload");

        var r = ferry.upload("dash-live", TestPlatform.pack("slow-start"));
        assertEquals(202, r.statusCode());
        String first = r.bodyAsJsonObject().getString("id");
        // the log view follows the new deployment over its WebSocket while it builds and starts
        page.waitFor("document.getElementById('log-title').innerText", first);
        page.waitFor("document.getElementById('log').innerText", "[extract]");
        page.waitFor("document.getElementById('log').innerText", "[swap]");
        page.waitFor("document.getElementById('log-state').innerText", "deployed");
        page.waitFor("document.querySelector('[data-service=\"dash-live\"]').innerText",
            "http://dash-live.localhost:" + ferry.proxyPort() + "/");
        page.waitFor("document.querySelector('[data-service=\"dash-live\"] .state').innerText", "deployed");
        page.waitFor("document.getElementById('history').innerText", first);

        // a second version that fails one request in five: rate, error share and p99 from the platform's meters
        String second = ferry.deploy("core-throws", "dash-live").getString("id");
        for (int i = 0; i < 20; i++) ferry.viaProxy("dash-live", i % 5 == 0 ? "/throw" : "/");
        page.waitFor("document.querySelector('[data-service=\"dash-live\"] .errors').innerText", "20.0 %");
        assertTrue(page.eval("document.querySelector('[data-service=\"dash-live\"] .p99').innerText").matches("[0-9.]+ (ms|s)"));
        assertTrue(Double.parseDouble(page.eval("document.querySelector('[data-service=\"dash-live\"] .rate').innerText")) > 0);

        // the service table as a person sees it: rendered, not covered, the serving state in its colour
        BufferedImage table = page.screenshot("#services-table", Path.of("target/dashboard-services.png"));
        assertTrue(table.getWidth() > 300 && table.getHeight() > 30, table.getWidth() + "x" + table.getHeight());
        assertTrue(pixels(table, 0x137333) > 20, "the table shows 'deployed' in green");

        // rollback, confirmed in the browser's dialog
        page.answerDialogs(true);
        page.eval("setTimeout(() => document.querySelector('[data-service=\"dash-live\"] button.rollback').click(), 0)");
        page.waitForDialog("Roll dash-live back to its previous deployment?");
        // a new deployment that runs the first one's artifact; the page follows its log, naming the first
        String back = rolledBackTo(ferry, "dash-live", first);
        assertEquals("deployed", ferry.awaitFinal(back).getString("state"));
        page.waitFor("document.querySelector('[data-service=\"dash-live\"] .errors').innerText + ' ' + document.getElementById('log-title').innerText", back);
        page.waitFor("document.getElementById('log-title').innerText", "artifact of " + first);
        assertEquals("slow", ferry.viaProxy("dash-live", "/").bodyAsString());
        assertEquals("stopped", ferry.awaitState(second, "stopped").getString("state"));

        // delete: a dismissed dialog deletes nothing, an accepted one deletes
        page.answerDialogs(false);
        page.eval("setTimeout(() => document.querySelector('[data-service=\"dash-live\"] button.delete').click(), 0)");
        page.waitForDialog("Delete dash-live?");
        TestPlatform.sleep(500);
        assertEquals(200, ferry.api(HttpMethod.GET, "/api/v1/services/dash-live").statusCode());
        page.answerDialogs(true);
        page.eval("setTimeout(() => document.querySelector('[data-service=\"dash-live\"] button.delete').click(), 0)");
        page.waitForDialog("Delete dash-live?");
        page.waitFor("document.getElementById('services').innerText", "No services yet");
        assertEquals(404, ferry.api(HttpMethod.GET, "/api/v1/services/dash-live").statusCode());

        // log out, a wrong token refused, the right one let in
        page.eval("document.getElementById('logout').click()");
        page.waitFor("String(document.getElementById('login').hidden)", "false");
        assertEquals("null", page.eval("localStorage.getItem('ferry.token')"));
        page.eval("(document.getElementById('token').value = 'wrong', document.getElementById('login-form').requestSubmit())");
        page.waitFor("document.getElementById('login-error').innerText", "refused");
        page.eval("(document.getElementById('token').value = '" + TestPlatform.TOKEN + "', document.getElementById('login-form').requestSubmit())");
        page.waitFor("String(document.getElementById('app').hidden)", "false");
        assertEquals(TestPlatform.TOKEN, page.eval("localStorage.getItem('ferry.token')"));
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

  /** How many pixels of {@code image} are within a small distance of colour {@code rgb}. */
  /** Waits for the rollback of {@code service} to deployment {@code to} (a new deployment) to appear; returns its id. */
  static String rolledBackTo(TestPlatform ferry, String service, String to) {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      io.vertx.core.json.JsonObject newest = ferry.api(HttpMethod.GET, "/api/v1/services/" + service + "/deployments").bodyAsJsonObject()
          .getJsonArray("deployments").getJsonObject(0);
      if (to.equals(newest.getString("source"))) return newest.getString("id");
      TestPlatform.sleep(25);
    }
    throw new AssertionError("no rollback of " + service + " to " + to);
  }

  static int pixels(BufferedImage image, int rgb) {
    int n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int p = image.getRGB(x, y);
        int dr = ((p >> 16) & 0xff) - ((rgb >> 16) & 0xff), dg = ((p >> 8) & 0xff) - ((rgb >> 8) & 0xff), db = (p & 0xff) - (rgb & 0xff);
        if (dr * dr + dg * dg + db * db < 40 * 40) n++;
      }
    }
    return n;
  }

  /** A page in the browser, driven with Runtime.evaluate over its DevTools WebSocket. */
  static final class Page {
    private final WebSocketClient client;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonObject>> calls = new ConcurrentHashMap<>();
    /** The messages of the dialogs (confirm, alert) the page opened, in order. */
    private final List<String> dialogs = new CopyOnWriteArrayList<>();
    private volatile boolean accept = true;

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
      // no Origin header: Chromium refuses DevTools connections that send one it was not told to allow
      client.connect(new io.vertx.core.http.WebSocketConnectOptions().setPort(p.getPort()).setHost(p.getHost()).setURI(p.getRawPath())
          .setAllowOriginHeader(false)).onSuccess(ws -> {
        Page page = new Page(client, ws);
        ws.textMessageHandler(text -> {
          JsonObject msg = new JsonObject(text);
          CompletableFuture<JsonObject> call = msg.containsKey("id") ? page.calls.remove(msg.getInteger("id")) : null;
          if (call != null) call.complete(msg);
          if ("Page.javascriptDialogOpening".equals(msg.getString("method"))) {
            page.dialogs.add(msg.getJsonObject("params").getString("message"));
            page.send("Page.handleJavaScriptDialog", new JsonObject().put("accept", page.accept));
          }
        });
        opened.complete(page);
      }).onFailure(opened::fail);
      Page page = opened.future().await();
      page.call("Page.enable", new JsonObject());
      return page;
    }

    private CompletableFuture<JsonObject> send(String method, JsonObject params) {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonObject> call = new CompletableFuture<>();
      calls.put(id, call);
      socket.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
      return call;
    }

    JsonObject call(String method, JsonObject params) {
      return send(method, params).orTimeout(20, TimeUnit.SECONDS).join();
    }

    /** Whether the page's next dialogs are accepted (OK) or dismissed (Cancel). */
    void answerDialogs(boolean ok) {
      accept = ok;
    }

    /** Waits for a dialog whose message starts with {@code message}, and forgets it. */
    void waitForDialog(String message) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        for (String d : dialogs) {
          if (d.startsWith(message)) {
            dialogs.remove(d);
            return;
          }
        }
        TestPlatform.sleep(50);
      }
      throw new AssertionError("no dialog '" + message + "'; got " + dialogs);
    }

    /** A PNG of the element {@code selector} shows, saved to {@code file} too. */
    BufferedImage screenshot(String selector, Path file) throws java.io.IOException {
      JsonObject box = new JsonObject(eval("JSON.stringify(document.querySelector('" + selector + "').getBoundingClientRect())"));
      JsonObject clip = new JsonObject().put("x", box.getDouble("x")).put("y", box.getDouble("y"))
          .put("width", box.getDouble("width")).put("height", box.getDouble("height")).put("scale", 1);
      String data = call("Page.captureScreenshot", new JsonObject().put("format", "png").put("clip", clip))
          .getJsonObject("result").getString("data");
      byte[] png = java.util.Base64.getDecoder().decode(data);
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, png);
      return ImageIO.read(new java.io.ByteArrayInputStream(png));
    }

    /** Evaluates {@code expression} in the page; its value as a string ("" when it throws). */
    String eval(String expression) {
      JsonObject result = send("Runtime.evaluate", new JsonObject()
          .put("expression", "(() => { try { return String(" + expression + "); } catch (e) { return ''; } })()")
          .put("returnByValue", true)).orTimeout(10, TimeUnit.SECONDS).join();
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
