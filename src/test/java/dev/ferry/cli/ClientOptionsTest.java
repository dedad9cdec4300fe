package dev.ferry.cli;

import dev.ferry.TestPlatform;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClientOptionsTest {

  @Test
  void the_token_comes_from_ferry_token_else_the_login_for_that_server_else_a_local_server_data_dir() throws IOException {
    Path config = Files.createTempDirectory("ferry-config");
    Path data = Files.createTempDirectory("ferry-data");
    String local = "http://127.0.0.1:8000", remote = "https://ferry.example.com";
    Map<String, String> env = Map.of("XDG_CONFIG_HOME", config.toString(), "FERRY_DATA_DIR", data.toString());
    try {
      assertNull(ClientOptions.tokenOf(env, local));
      Files.writeString(data.resolve("token"), "from-server\n");
      assertEquals("from-server", ClientOptions.tokenOf(env, local));
      assertNull(ClientOptions.tokenOf(env, remote), "a local server's token is not sent elsewhere");

      new UserConfig(remote, "from-login").write(env);
      assertEquals("from-login", ClientOptions.tokenOf(env, remote));
      assertEquals("from-server", ClientOptions.tokenOf(env, local), "the login is for its own server only");
      ClientOptions none = new ClientOptions();
      assertEquals(remote, none.server(env), "the logged-in server is the default");
      assertEquals("from-env", ClientOptions.tokenOf(Map.of("FERRY_TOKEN", "from-env", "XDG_CONFIG_HOME", config.toString()), remote));
    } finally {
      TestPlatform.deleteTree(config);
      TestPlatform.deleteTree(data);
    }
  }
}
