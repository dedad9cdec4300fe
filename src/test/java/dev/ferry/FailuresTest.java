package dev.ferry;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each way a deployment can fail ends in {@code error} with a message a person can act on. */
@Tag("platform")
class FailuresTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();

  @BeforeAll
  static void deployTheBystander() {
    assertEquals("deployed", ferry.deploy("hello", "bystander").getString("state"));
  }

  private static JsonObject failed(String fixture, String service, String stage) {
    JsonObject d = ferry.deploy(fixture, service);
    assertEquals("error", d.getString("state"), d.encodePrettily());
    assertEquals(stage, d.getString("stage"), d.encodePrettily());
    // the bystander never notices
    assertEquals(200, ferry.viaProxy("bystander", "/").statusCode());
    return d;
  }

  @Test
  void compile_error_reports_file_and_line() {
    String error = failed("compile-error", "broken", "build").getString("error");
    assertTrue(error.contains("src/main/java/fixture/broken/Broken.java:9: "), error);
    assertTrue(error.contains("incompatible types"), error);
  }

  @Test
  void compiling_against_ferry_internals_fails_at_build() {
    String error = failed("compiles-against-internals", "sneaky", "build").getString("error");
    assertTrue(error.contains("Sneaky.java:10: "), error);
    assertTrue(error.contains("dev.ferry"), error);
  }

  @Test
  void no_verticle_is_an_error() {
    String error = failed("no-verticle", "none", "load").getString("error");
    assertTrue(error.startsWith("No verticle found"), error);
  }

  @Test
  void several_verticles_without_main_verticle_name_the_candidates() {
    String error = failed("several-verticles", "several", "load").getString("error");
    assertTrue(error.contains("fixture.Helper, fixture.Main"), error);
    assertTrue(error.contains("main.verticle"), error);
  }
}
