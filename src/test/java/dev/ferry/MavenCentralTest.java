package dev.ferry;

import eu.maveniverse.maven.mima.context.ContextOverrides;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a new user does: a platform with the default config, on the shipped classpath, deploys a
 * service whose libraries only Maven Central has. Skipped, saying so, where Central is not reachable.
 */
@Tag("platform")
class MavenCentralTest {

  @Test
  void a_service_with_libraries_from_maven_central_downloads_them_over_https_deploys_and_answers() throws Exception {
    URI central = URI.create(ContextOverrides.CENTRAL.getUrl());
    Assumptions.assumeTrue(reachable(central), "skipped: Maven Central (" + central.getHost() + ":443) is not reachable from here");
    Vertx vertx = Vertx.vertx();
    try (PackagedFerry ferry = PackagedFerry.start(vertx, new JsonObject(), Map.of(), List.of())) {
      JsonObject d = ferry.deploy(TestPlatform.FIXTURES.resolve("central"), "central");
      assertEquals("deployed", d.getString("state"), d.encodePrettily() + "\n" + ferry.tail());
      assertEquals("guava, Commons Text | {\"database\":\"orders\"}", ferry.viaProxy("central", "/").bodyAsString().strip());
      List<String> jars = d.getJsonObject("artifact").getJsonArray("dependencies").stream()
          .map(p -> Path.of((String) p).getFileName().toString()).toList();
      assertTrue(jars.containsAll(List.of("guava-33.4.8-jre.jar", "commons-text-1.13.0.jar", "vertx-pg-client-5.0.7.jar",
          "vertx-web-templ-handlebars-5.0.7.jar", "json-lib-2.4-jdk15.jar")), jars.toString());
      List<String> log = ferry.log(d, "resolve");
      assertTrue(log.stream().anyMatch(l -> l.matches("Downloaded com\\.google\\.guava:guava:jar:33\\.4\\.8-jre \\(\\d\\.\\d MiB\\) from central")),
          log.toString());
      assertTrue(log.stream().anyMatch(l -> l.startsWith("Downloaded net.sf.json-lib:json-lib:jar:jdk15:2.4 (")), log.toString());
      assertTrue(log.stream().anyMatch(l -> l.matches("Fetched " + jars.size() + " jars, \\d+\\.\\d MiB in \\d+\\.\\d s \\(and \\d+ poms\\)")),
          log.toString());
    } finally {
      vertx.close().await();
    }
  }

  private static boolean reachable(URI uri) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(uri.getHost(), 443), 3_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
