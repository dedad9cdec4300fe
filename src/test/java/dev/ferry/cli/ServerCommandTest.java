package dev.ferry.cli;

import dev.ferry.TestPlatform;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry server} as a user starts it: a separate JVM, configured by environment and flags. */
@Tag("platform")
class ServerCommandTest {

  @Test
  void server_starts_from_env_and_flags_and_names_its_ports_and_data_dir() throws Exception {
    int api = freePort(), proxy = freePort(), envProxy = freePort();
    Path data = Files.createTempDirectory("ferry-server");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.ferry.Main", "server", "--proxy-port", String.valueOf(proxy)));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("FERRY_API_PORT", String.valueOf(api));
    pb.environment().put("FERRY_PROXY_PORT", String.valueOf(envProxy)); // the flag wins
    pb.environment().put("FERRY_DATA_DIR", data.toString());
    pb.environment().remove("FERRY_TOKEN");
    if (!dev.ferry.TestPlatform.SANDBOX) pb.environment().put("FERRY_SANDBOX", "none");
    Process p = pb.start();
    try {
      CompletableFuture<String> upLine = new CompletableFuture<>();
      List<String> lines = new CopyOnWriteArrayList<>();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            lines.add(line);
            if (line.contains("Ferry is up")) upLine.complete(line);
          }
          upLine.completeExceptionally(new AssertionError("server exited without starting"));
        } catch (Exception e) {
          upLine.completeExceptionally(e);
        }
      });
      reader.setDaemon(true);
      reader.start();
      String line = upLine.get(60, TimeUnit.SECONDS);
      // a clean start warns about nothing
      assertTrue(lines.stream().noneMatch(l -> l.contains(" WARN ") || l.contains(" ERROR ")), String.join("\n", lines));
      assertTrue(line.contains(":" + api), line);
      assertTrue(line.contains(":" + proxy), line);
      assertTrue(line.contains(data.toAbsolutePath().toString()), line);
      HttpResponse<String> health = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode());
      // no token configured: one was generated into the data dir, owner-only, and shown once
      String token = Files.readString(data.resolve("token")).trim();
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("token"))));
      assertEquals(1, lines.stream().filter(l -> l.contains(token)).count(), String.join("\n", lines));
      HttpRequest list = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api + "/api/v1/services")).build();
      assertEquals(401, HttpClient.newHttpClient().send(list, HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(list.uri()).header("Authorization", "Bearer " + token).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());
    } finally {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
      TestPlatform.deleteTree(data);
    }
  }

  @Test
  void a_port_in_use_fails_the_start_at_once_naming_the_address_and_the_cause() throws Exception {
    Path data = Files.createTempDirectory("ferry-server");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      for (String[] flags : List.of(new String[] {"--api-port", String.valueOf(port), "--proxy-port", "0"},
          new String[] {"--api-port", "0", "--proxy-port", String.valueOf(port)})) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "dev.ferry.Main", "server", "--data-dir", data.toString()));
        cmd.addAll(List.of(flags));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
          String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
          assertEquals(1, p.exitValue(), out);
          String what = flags[0].equals("--api-port") && !flags[1].equals("0") ? "the API" : "the proxy";
          assertTrue(out.contains("ferry server: cannot start: cannot listen on 127.0.0.1:" + port + " for " + what
              + ": Address already in use"), out);
          assertFalse(out.contains("TimeoutException") || out.contains("RejectedExecutionException"), out);
        } finally {
          p.destroyForcibly();
        }
      }
    } finally {
      TestPlatform.deleteTree(data);
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
