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
  void the_token_comes_from_ferry_token_else_the_config_file_else_the_local_data_dir() throws IOException {
    Path dir = Files.createTempDirectory("ferry-config");
    Path data = Files.createTempDirectory("ferry-data");
    Map<String, String> env = Map.of("FERRY_CONFIG_DIR", dir.toString(), "FERRY_DATA_DIR", data.toString());
    try {
      assertNull(ClientOptions.tokenOf(env));
      Files.writeString(data.resolve("token"), "from-server\n");
      assertEquals("from-server", ClientOptions.tokenOf(env));
      Files.writeString(dir.resolve("token"), "from-file\n");
      assertEquals("from-file", ClientOptions.tokenOf(env));
      assertEquals("from-env", ClientOptions.tokenOf(Map.of("FERRY_TOKEN", "from-env", "FERRY_CONFIG_DIR", dir.toString())));
    } finally {
      Files.deleteIfExists(dir.resolve("token"));
      Files.deleteIfExists(data.resolve("token"));
      Files.delete(dir);
      Files.delete(data);
    }
  }
}
