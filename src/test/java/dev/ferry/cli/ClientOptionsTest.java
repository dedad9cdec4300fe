package dev.ferry.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClientOptionsTest {

  @Test
  void the_token_comes_from_ferry_token_else_the_config_file() throws IOException {
    Path dir = Files.createTempDirectory("ferry-config");
    try {
      assertNull(ClientOptions.tokenOf(Map.of("FERRY_CONFIG_DIR", dir.toString())));
      Files.writeString(dir.resolve("token"), "from-file\n");
      assertEquals("from-file", ClientOptions.tokenOf(Map.of("FERRY_CONFIG_DIR", dir.toString())));
      assertEquals("from-env", ClientOptions.tokenOf(Map.of("FERRY_TOKEN", "from-env", "FERRY_CONFIG_DIR", dir.toString())));
    } finally {
      Files.deleteIfExists(dir.resolve("token"));
      Files.delete(dir);
    }
  }
}
