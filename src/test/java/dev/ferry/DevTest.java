package dev.ferry;

import dev.ferry.cli.ServerCommand;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry dev}: the real binary, with the platform it starts itself, picking up saved edits. */
@Tag("platform")
class DevTest {

  private static final Pattern STARTED = Pattern.compile("Started a platform: API http://127\\.0\\.0\\.1:(\\d+), services at "
      + "http://<service>\\.localhost:(\\d+)/");

  @Test
  void dev_starts_a_platform_deploys_and_redeploys_each_saved_edit_and_ctrl_c_stops_it() throws Exception {
    Path work = Files.createTempDirectory("ferry-dev");
    Vertx vertx = Vertx.vertx();
    WebClient http = WebClient.create(vertx);
    try {
      Path dir = FerryProcess.service(work.resolve("live"), "before");
      Path source = dir.resolve("src/main/java/fixture/say/Say.java");
      FerryProcess cli = new FerryProcess(work.resolve("config")).in(dir);
      try (FerryProcess.Running dev = cli.start("dev", "--api-port", "0", "--proxy-port", "0")) {
        int at = dev.awaitOut("Started a platform", 0, Duration.ofSeconds(90));
        Matcher m = STARTED.matcher(dev.out());
        assertTrue(m.find(), dev.toString());
        int apiPort = Integer.parseInt(m.group(1)), proxyPort = Integer.parseInt(m.group(2));
        String url = "http://live.localhost:" + proxyPort + "/";
        at = dev.awaitOut("live in ", at, Duration.ofSeconds(90));
        at = dev.awaitOut(url, at, Duration.ofSeconds(5));
        assertEquals("before", get(http, proxyPort, "live"));
        // its log streams: what the service says
        at = dev.awaitOut("[service] starting: before", 0, Duration.ofSeconds(30));
        assertTrue(Files.isDirectory(dir.resolve("target/ferry-dev")), "the data dir beside the build output");

        Files.writeString(source, Files.readString(source).replace("before", "after"));
        at = dev.awaitOut("src/main/java/fixture/say/Say.java: redeploying", at, Duration.ofSeconds(30));
        at = dev.awaitOut("live in ", at, Duration.ofSeconds(60));
        assertEquals("after", get(http, proxyPort, "live"));
        at = dev.awaitOut("[service] starting: after", 0, Duration.ofSeconds(30));

        // a save that does not compile: the error, and the last good version keeps serving
        Files.writeString(source, Files.readString(source).replace("\"after\"", "after"));
        at = dev.awaitOut("error: cannot find symbol", at, Duration.ofSeconds(60));
        at = dev.awaitOut("fix and save to try again", at, Duration.ofSeconds(30));
        assertEquals("after", get(http, proxyPort, "live"));

        dev.interrupt();
        String hang = dev.hangsAfter(Duration.ofSeconds(60));
        assertNull(hang, "Ctrl-C ends ferry dev:\n" + dev + "\n--- its threads after 60 s\n" + hang);
        dev.drained();
        assertFalse(dev.err().contains(ServerCommand.NOT_CLOSED), "its platform closed:\n" + dev);
        // what it started is gone: the platform's API and proxy no longer answer
        for (int port : new int[] {apiPort, proxyPort}) {
          Throwable e = assertThrows(Exception.class, () -> http.get(port, "127.0.0.1", "/health").send().await());
          assertInstanceOf(ConnectException.class, e, e.toString());
        }
      }
    } finally {
      vertx.close().await();
      TestPlatform.deleteTree(work);
    }
  }

  private static String get(WebClient http, int proxyPort, String service) {
    return http.get(proxyPort, "127.0.0.1", "/").putHeader("Host", service + ".localhost").send().await().bodyAsString();
  }
}
