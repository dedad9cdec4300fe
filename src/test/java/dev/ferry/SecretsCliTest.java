package dev.ferry;

import dev.ferry.cli.FerryCommand;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ferry secrets} and {@code ferry resources}, in-process against a real platform. */
@Tag("platform")
class SecretsCliTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  static final Path work = TestPlatform.tempDir("ferry-secrets-cli");

  @AfterAll
  static void stop() {
    TestPlatform.deleteTree(work);
  }

  static CliTest.Run ferry(String stdin, String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    InputStream before = System.in;
    System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    try {
      int code = FerryCommand.commandLine(Map.of("FERRY_SERVER", "http://127.0.0.1:" + ferry.apiPort(), "FERRY_TOKEN", TestPlatform.TOKEN,
              "FERRY_CONFIG_DIR", work.resolve("config").toString()))
          .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
      return new CliTest.Run(code, out.toString(), err.toString());
    } finally {
      System.setIn(before);
    }
  }

  static String sha(String service) {
    return ferry.viaProxy(service, "/").bodyAsJsonObject().getJsonObject("sha256").encode();
  }

  @Test
  void secrets_set_from_arguments_an_env_file_and_stdin_then_list_unset_and_resources() throws Exception {
    CliTest.Run missing = ferry("", "deploy", TestPlatform.FIXTURES.resolve("secrets").toString(), "--name", "cli-keys", "--progress", "plain");
    assertEquals(1, missing.code(), missing.toString());
    assertTrue((missing.out() + missing.err()).contains("ferry secrets set cli-keys GREETING=... API_KEY=..."), missing.toString());

    Path env = work.resolve(".env");
    Files.writeString(env, "# keys\nexport GREETING=\"hello\\nworld\"\nIGNORED_LATER='x'\n");
    CliTest.Run set = ferry("", "secrets", "set", "cli-keys", "--env-file", env.toString());
    assertEquals(0, set.code(), set.toString());
    assertTrue(set.out().contains("Set GREETING, IGNORED_LATER on cli-keys"), set.toString());
    assertTrue(set.out().contains("Restarting cli-keys"), "the failed deployment is tried again: " + set);

    CliTest.Run fromStdin = ferry("sk_from_stdin\n", "secrets", "set", "cli-keys", "API_KEY");
    assertEquals(0, fromStdin.code(), fromStdin.toString());
    assertFalse(fromStdin.out().contains("sk_from_stdin"), "values are never printed");
    String id = fromStdin.out().replaceAll("(?s).*as deployment (\\S+) .*", "$1").trim();
    assertEquals("deployed", ferry.awaitFinal(id).getString("state"), fromStdin.toString());
    JsonObject hashes = new JsonObject(sha("cli-keys"));
    assertEquals(SecretsTest.sha256("sk_from_stdin"), hashes.getString("API_KEY"));
    assertEquals(SecretsTest.sha256("hello\nworld"), hashes.getString("GREETING"));

    CliTest.Run args = ferry("", "secrets", "set", "cli-keys", "API_KEY=sk=with=equals", "EXTRA=1");
    assertEquals(0, args.code(), args.toString());
    String next = args.out().replaceAll("(?s).*as deployment (\\S+) .*", "$1").trim();
    assertEquals("deployed", ferry.awaitFinal(next).getString("state"));
    assertEquals(SecretsTest.sha256("sk=with=equals"), new JsonObject(sha("cli-keys")).getString("API_KEY"));

    CliTest.Run list = ferry("", "secrets", "list", "cli-keys");
    assertEquals(0, list.code(), list.toString());
    for (String k : new String[] {"API_KEY", "EXTRA", "GREETING", "IGNORED_LATER"}) assertTrue(list.out().contains(k), list.toString());
    assertFalse(list.out().contains("sk=with=equals"));

    CliTest.Run unset = ferry("", "secrets", "unset", "cli-keys", "EXTRA", "IGNORED_LATER", "NEVER_SET");
    assertEquals(0, unset.code(), unset.toString());
    assertTrue(unset.out().contains("Unset EXTRA, IGNORED_LATER on cli-keys") && unset.out().contains("Not set: NEVER_SET"), unset.toString());
    assertEquals(2, ferry.api(HttpMethod.GET, "/api/v1/services/cli-keys/secrets").bodyAsJsonObject().getJsonArray("secrets").size());

    CliTest.Run resources = ferry("", "resources", "cli-keys");
    assertEquals(0, resources.code(), resources.toString());
    assertTrue(resources.out().contains("Databases  none") && resources.out().contains("Secrets    API_KEY, GREETING"), resources.toString());

    CliTest.Run bad = ferry("", "secrets", "set", "cli-keys", "not-a-key=1");
    assertEquals(1, bad.code());
    assertTrue(bad.err().contains("400") && bad.err().contains("not a secret key"), bad.toString());
  }

  @Test
  void sdk_install_writes_a_jar_and_pom_a_maven_build_can_use() throws Exception {
    Path repo = work.resolve("m2");
    CliTest.Run r = ferry("", "sdk", "install", "--repository", repo.toString());
    assertEquals(0, r.code(), r.toString());
    Path dir = repo.resolve("dev/ferry/ferry-sdk/0.1.0");
    assertTrue(Files.readString(dir.resolve("ferry-sdk-0.1.0.pom")).contains("<artifactId>ferry-sdk</artifactId>"));
    try (var jar = new java.util.jar.JarFile(dir.resolve("ferry-sdk-0.1.0.jar").toFile())) {
      assertTrue(jar.getEntry("dev/ferry/sdk/Postgres.class") != null && jar.getEntry("dev/ferry/sdk/Secret$List.class") != null);
      assertTrue(jar.stream().allMatch(e -> e.getName().startsWith("dev/ferry/sdk/") || e.getName().startsWith("META-INF/")),
          "the SDK alone, none of the platform's internals");
    }
  }
}
