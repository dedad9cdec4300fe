package dev.ferry;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What service code can and cannot load, seen from inside a deployed service. */
@Tag("platform")
class IsolationTest {

  @RegisterExtension
  static final TestPlatform ferry = TestPlatform.defaults();
  static JsonObject seen;

  @BeforeAll
  static void deployThePeek() {
    JsonObject d = ferry.deploy("peeks-at-platform", "peek");
    assertEquals("deployed", d.getString("state"), d.encodePrettily());
    seen = ferry.viaProxy("peek", "/").bodyAsJsonObject();
  }

  @Test
  void service_code_cannot_load_ferry_platform_classes() {
    assertFalse(seen.getBoolean("platform"), seen.encode());
    assertFalse(seen.getBoolean("ledger"), seen.encode());
  }

  @Test
  void service_code_cannot_see_the_platforms_other_libraries() {
    assertFalse(seen.getBoolean("slf4j"), seen.encode());
    assertFalse(seen.getBoolean("compress"), seen.encode());
  }

  @Test
  void shared_packages_come_from_the_platform() {
    assertTrue(seen.getBoolean("sdk"), seen.encode());
    assertTrue(seen.getBoolean("vertx"), seen.encode());
    assertTrue(seen.getBoolean("sameVertx"), seen.encode());
  }
}
