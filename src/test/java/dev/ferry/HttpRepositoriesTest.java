package dev.ferry;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dependencies fetched over real HTTP(S) from Maven repositories the test serves on loopback, by a
 * {@code ferry server} running on the shipped classpath ({@link PackagedFerry}), configured by a real
 * settings.xml the tests rewrite (Ferry reads it at each resolution, as Maven reads it at each run).
 * Each test names its own local repository there, so every build really downloads.
 *
 * <p>Repositories: {@code /origin/} (Ferry's configured remote, plain HTTP) and {@code /mirror/} serve
 * the public tree; {@code /private/} a tree only Basic credentials open, {@code /flaky/} the same tree
 * when it is not down; {@code /other/} a third tree; {@code /forbidden/} answers 403. The same routes over HTTPS with a certificate the server JVM trusts,
 * and again with one it does not.
 */
@Tag("platform")
class HttpRepositoriesTest {

  static final String STORE_PASSWORD = "changeit";

  static Vertx vertx;
  static Path work;
  static Path settings;
  static MavenRepositoryServer http;
  static MavenRepositoryServer https;
  static MavenRepositoryServer untrusted;
  static ForwardProxy proxy;
  static PackagedFerry ferry;
  static int runs;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    work = Files.createTempDirectory("ferry-http-repos");
    FileRepository pub = new FileRepository(work.resolve("public"));
    pub.install("fixture.http", "greeter", "1.0", greeter("greeter over http"), Map.of());
    pub.install("fixture.http", "tampered", "1.0", Map.of("fixture.tampered.T", "package fixture.tampered; public class T {}"), Map.of());
    // a jar whose published checksum is not its own
    Files.writeString(pub.root.resolve("fixture/http/tampered/1.0/tampered-1.0.jar.sha1"), "0".repeat(40));
    new FileRepository(work.resolve("private")).install("fixture.secret", "vault", "1.0",
            Map.of("fixture.secret.Vault", "package fixture.secret; public class Vault {}"), Map.of())
        .install("fixture.secret", "vault-client", "1.0", Map.of("fixture.secret.Client", "package fixture.secret; public class Client {}"),
            Map.of(), List.of("fixture.secret:vault:1.0"));
    new FileRepository(work.resolve("other")).install("fixture.other", "other", "1.0",
        Map.of("fixture.other.Other", "package fixture.other; public class Other {}"), Map.of());
    Map<String, Path> trees = Map.of("origin", pub.root, "mirror", pub.root, "private", work.resolve("private"),
        "flaky", work.resolve("private"), "other", work.resolve("other"));

    Path trustedKey = keyStore("trusted", "CN=trusted repository"), untrustedKey = keyStore("untrusted", "CN=untrusted repository");
    http = MavenRepositoryServer.start(vertx, trees, null, null);
    https = MavenRepositoryServer.start(vertx, trees, trustedKey, STORE_PASSWORD);
    untrusted = MavenRepositoryServer.start(vertx, trees, untrustedKey, STORE_PASSWORD);
    proxy = ForwardProxy.start(vertx);
    Path trustStore = trustStoreWith(trustedKey);

    settings = work.resolve("settings.xml");
    Files.writeString(settings, "<settings/>");
    ferry = PackagedFerry.start(vertx, new JsonObject().put("maven", new JsonObject()
            .put("remoteRepositories", List.of(http.url("origin"))).put("settings", settings.toString())),
        Map.of(), List.of("-Djavax.net.ssl.trustStore=" + trustStore, "-Djavax.net.ssl.trustStorePassword=" + STORE_PASSWORD));
  }

  @AfterAll
  static void stop() {
    if (ferry != null) ferry.close();
    for (AutoCloseable c : new AutoCloseable[] {http, https, untrusted, proxy}) {
      try {
        if (c != null) c.close();
      } catch (Exception e) {
        // closing anyway
      }
    }
    vertx.close().await();
    TestPlatform.deleteTree(work);
  }

  @Test
  void a_settings_profile_repository_serves_a_dependency_over_https_and_the_log_shows_each_download() throws Exception {
    settings("""
        <profiles><profile><id>secure</id>
          <repositories><repository><id>secure</id><url>%s</url></repository></repositories>
        </profile></profiles>
        <activeProfiles><activeProfile>secure</activeProfile></activeProfiles>
        """.formatted(https.url("origin")));
    JsonObject d = ferry.deploy(service("over-https", dependency("fixture.http", "greeter", "1.0"), ""), "over-https");
    assertEquals("deployed", d.getString("state"), d.encodePrettily() + "\n" + ferry.tail());
    assertEquals("greeter over http", ferry.viaProxy("over-https", "/").bodyAsString());
    List<String> log = ferry.log(d, "resolve");
    assertTrue(log.stream().anyMatch(l -> l.matches("Downloaded fixture\\.http:greeter:jar:1\\.0 \\(\\d+\\.\\d KiB\\) from secure")), log.toString());
    assertTrue(log.stream().anyMatch(l -> l.matches("Fetched 1 jar, \\d+\\.\\d KiB in \\d+\\.\\d s \\(and 1 pom\\)")), log.toString());
    assertTrue(https.requests().stream().anyMatch(r -> r.endsWith("/origin/fixture/http/greeter/1.0/greeter-1.0.jar")), https.requests().toString());
  }

  @Test
  void a_private_repository_opens_with_the_settings_credentials_and_a_wrong_password_is_a_401_naming_it() throws Exception {
    Path svc = service("vault", dependency("fixture.secret", "vault", "1.0"), repository("private", http.url("private")));
    settings(server("private", MavenRepositoryServer.USER, "wrong-password"));
    JsonObject refused = ferry.deploy(svc, "vault");
    assertEquals("error", refused.getString("state"), refused.encodePrettily());
    String error = refused.getString("error");
    assertTrue(error.contains("private (" + http.url("private") + ") answered 401 Unauthorized for fixture.secret:vault:jar:1.0")
        && error.contains("refused the credentials of <server> 'private'"), error);
    assertNoStackTrace(error);
    assertTrue(ferry.log(refused, "build").stream().anyMatch(l -> l.contains("answered 401")), "the error is in the log too");

    settings(server("private", MavenRepositoryServer.USER, MavenRepositoryServer.PASSWORD));
    JsonObject d = ferry.deploy(svc, "vault");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertTrue(ferry.log(d, "resolve").stream().anyMatch(l -> l.startsWith("Downloaded fixture.secret:vault:jar:1.0")), ferry.log(d, "resolve").toString());
  }

  @Test
  void a_mirror_of_everything_gets_every_request_with_its_own_credentials() throws Exception {
    settings("""
        <mirrors><mirror><id>corp</id><url>%s</url><mirrorOf>*</mirrorOf></mirror></mirrors>
        """.formatted(http.url("mirror")) + server("corp", MavenRepositoryServer.USER, MavenRepositoryServer.PASSWORD));
    http.reset();
    JsonObject d = ferry.deploy(service("mirrored", dependency("fixture.http", "greeter", "1.0"), repository("private", http.url("private"))),
        "mirrored");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    assertTrue(http.hits("mirror") > 0, http.requests().toString());
    assertEquals(0, http.hits("origin") + http.hits("private"), "nothing went to the mirrored repositories: " + http.requests());
    assertTrue(ferry.log(d, "resolve").stream().anyMatch(l -> l.startsWith("Downloaded fixture.http:greeter:jar:1.0") && l.endsWith("from corp")),
        ferry.log(d, "resolve").toString());
  }

  @Test
  void a_settings_proxy_carries_the_requests_except_to_its_non_proxy_hosts() throws Exception {
    settings("""
        <proxies><proxy><id>corp-proxy</id><active>true</active><protocol>http</protocol>
          <host>127.0.0.1</host><port>%d</port><username>%s</username><password>%s</password>
          <nonProxyHosts>localhost|*.internal</nonProxyHosts>
        </proxy></proxies>
        """.formatted(proxy.port(), ForwardProxy.USER, ForwardProxy.PASSWORD));
    String direct = "http://localhost:" + http.port() + "/other/";
    JsonObject d = ferry.deploy(service("proxied", dependency("fixture.http", "greeter", "1.0") + dependency("fixture.other", "other", "1.0"),
        repository("other", direct)), "proxied");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    List<String> names = d.getJsonObject("artifact").getJsonArray("dependencies").stream().map(p -> Path.of((String) p).getFileName().toString()).toList();
    assertTrue(names.containsAll(List.of("greeter-1.0.jar", "other-1.0.jar")), names.toString());
    // the configured repository (127.0.0.1) through the proxy, with its credentials; localhost directly
    assertTrue(proxy.forwarded().contains(http.url("origin") + "fixture/http/greeter/1.0/greeter-1.0.jar"), proxy.forwarded().toString());
    assertTrue(proxy.forwarded().stream().noneMatch(u -> u.contains("localhost") || u.contains("/other/")), proxy.forwarded().toString());
  }

  @Test
  void each_failure_is_a_clear_error_and_the_next_build_fetches_again() throws Exception {
    String vault = dependency("fixture.secret", "vault", "1.0");
    String originRepo = "(" + http.url("origin") + ")";
    record Row(String name, String dependencies, String extra, List<String> expected) { }
    List<Row> rows = List.of(
        new Row("not-found", dependency("fixture.http", "absent", "1.0"), "",
            List.of("fixture.http:absent:jar:1.0 was not found in repo-", originRepo)),
        new Row("unreachable", vault, repository("gone", "http://127.0.0.1:" + closedPort() + "/maven2/"),
            List.of("Cannot reach gone (http://127.0.0.1:", "for fixture.secret:vault:jar:1.0")),
        new Row("forbidden", vault, repository("forbidden", http.url("forbidden")),
            List.of("forbidden (" + http.url("forbidden") + ") answered 403 Forbidden for fixture.secret:vault:jar:1.0")),
        new Row("anonymous", vault, repository("private", http.url("private")),
            List.of("answered 401 Unauthorized", "no <server> with id 'private' in settings.xml")),
        new Row("untrusted", vault, repository("untrusted", untrusted.url("origin")),
            List.of("TLS failure talking to untrusted (" + untrusted.url("origin") + ")", "certificate is not trusted")),
        new Row("tampered", dependency("fixture.http", "tampered", "1.0"), "",
            List.of("Checksum mismatch for fixture.http:tampered:jar:1.0 from repo-")),
        new Row("orphan", "", "<parent><groupId>fixture.http</groupId><artifactId>absent-parent</artifactId><version>1.0</version></parent>",
            List.of("the parent pom fixture.http:absent-parent:1.0 cannot be resolved", "fixture.http:absent-parent:pom:1.0 was not found in")));
    List<String> problems = new ArrayList<>();
    for (Row row : rows) {
      settings("");
      JsonObject failed = ferry.deploy(service(row.name(), row.dependencies(), row.extra()), row.name());
      String error = String.valueOf(failed.getString("error"));
      if (!"error".equals(failed.getString("state")) || !row.expected().stream().allMatch(error::contains) || error.contains("\tat ")) {
        problems.add(row.name() + ": " + failed.getString("state") + ": " + error);
      }
      // the same platform, a new pom and an empty local repository: the next build downloads and deploys
      JsonObject next = ferry.deploy(service(row.name() + "-next", dependency("fixture.http", "greeter", "1.0"), ""), row.name() + "-next");
      if (!"deployed".equals(next.getString("state"))) problems.add(row.name() + ", the build after it: " + next.encodePrettily());
      else if (ferry.log(next, "resolve").stream().noneMatch(l -> l.startsWith("Downloaded fixture.http:greeter:jar:1.0"))) {
        problems.add(row.name() + ", the build after it downloaded nothing: " + ferry.log(next, "resolve"));
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n\n", problems));
  }

  @Test
  void a_repository_that_was_down_serves_the_next_build_whole_once_it_is_back() throws Exception {
    settings("");
    Path svc = service("flaky", dependency("fixture.secret", "vault-client", "1.0"), repository("flaky", http.url("flaky")));
    http.down.set(true);
    JsonObject failed;
    try {
      failed = ferry.deploy(svc, "flaky");
    } finally {
      http.down.set(false);
    }
    assertEquals("error", failed.getString("state"), failed.encodePrettily());
    assertTrue(failed.getString("error").contains("flaky (" + http.url("flaky") + ") answered HTTP 502 for fixture.secret:vault-client:jar:1.0"),
        failed.getString("error"));
    // the same pom, settings and local repository: nothing of the failed attempt is remembered, not even
    // the pom that could not be read then (which would leave vault-client's own dependency out)
    JsonObject d = ferry.deploy(svc, "flaky");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    List<String> names = d.getJsonObject("artifact").getJsonArray("dependencies").stream().map(p -> Path.of((String) p).getFileName().toString()).toList();
    assertEquals(List.of("vault-client-1.0.jar", "vault-1.0.jar"), names);
  }

  /** Writes the server's settings.xml: {@code body} and a local repository no earlier build used. */
  static void settings(String body) throws IOException {
    Path local = work.resolve("local-" + (++runs));
    Files.writeString(settings, "<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">\n<localRepository>" + local
        + "</localRepository>\n" + body + "\n</settings>\n");
  }

  static String server(String id, String user, String password) {
    return "<servers><server><id>" + id + "</id><username>" + user + "</username><password>" + password + "</password></server></servers>";
  }

  static String repository(String id, String url) {
    return "<repositories><repository><id>" + id + "</id><url>" + url + "</url></repository></repositories>";
  }

  static String dependency(String groupId, String artifactId, String version) {
    return "<dependency><groupId>" + groupId + "</groupId><artifactId>" + artifactId + "</artifactId><version>" + version
        + "</version></dependency>";
  }

  static Map<String, String> greeter(String says) {
    return Map.of("fixture.lib.Greeter",
        "package fixture.lib; public class Greeter { public static String greet() { return \"" + says + "\"; } }");
  }

  /** A service tree whose verticle answers {@code Greeter.greet()}, with a pom naming {@code dependencies} and {@code extra} pom content. */
  static Path service(String name, String dependencies, String extra) throws IOException {
    Path dir = Files.createTempDirectory(work, name);
    Files.writeString(dir.resolve("pom.xml"), """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          %s
          <groupId>fixture</groupId>
          <artifactId>%s</artifactId>
          <version>1</version>
          <dependencies>%s</dependencies>
        </project>
        """.formatted(extra, name, dependencies));
    // the greeter's verticle when the pom names the greeter, else hello's
    Path from = TestPlatform.FIXTURES.resolve(dependencies.contains("<artifactId>greeter</artifactId>") ? "greeter-v2" : "hello");
    try (var files = Files.walk(from.resolve("src"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path to = dir.resolve(from.relativize(f).toString());
        Files.createDirectories(to.getParent());
        Files.copy(f, to);
      }
    }
    return dir;
  }

  private static void assertNoStackTrace(String error) {
    assertFalse(error.contains("\tat ") || error.contains("Exception:"), "a stack trace in the error: " + error);
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** A PKCS#12 key store with a new self-signed key for 127.0.0.1, made by the JDK's keytool. */
  static Path keyStore(String name, String dn) throws Exception {
    Path file = work.resolve(name + ".p12");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
        "-alias", "repo", "-keyalg", "RSA", "-keysize", "2048", "-dname", dn, "-ext", "SAN=ip:127.0.0.1",
        "-validity", "2", "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("keytool failed: " + out);
    return file;
  }

  /** The JDK's trusted certificates plus the one in {@code keyStore}: what the server JVM trusts. */
  static Path trustStoreWith(Path keyStore) throws Exception {
    KeyStore trust = KeyStore.getInstance(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts").toFile(),
        STORE_PASSWORD.toCharArray());
    KeyStore key = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      key.load(in, STORE_PASSWORD.toCharArray());
    }
    Certificate cert = key.getCertificate("repo");
    trust.setCertificateEntry("ferry-test-repository", cert);
    Path file = work.resolve("truststore");
    try (OutputStream out = Files.newOutputStream(file)) {
      trust.store(out, STORE_PASSWORD.toCharArray());
    }
    return file;
  }
}
