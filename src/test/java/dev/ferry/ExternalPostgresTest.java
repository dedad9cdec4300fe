package dev.ferry;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code resources.postgres.url}: the platform provisions on an existing server (Debian's
 * {@code postgresql} package, started here on a free loopback port) as an administrator that may
 * create roles and databases but is no superuser, and starts no server of its own.
 */
@Tag("platform")
class ExternalPostgresTest {

  static final String SUPERUSER_PASSWORD = "super-" + java.util.UUID.randomUUID();
  static final String ADMIN_PASSWORD = "admin-" + java.util.UUID.randomUUID();

  /** Debian's server binaries, if the package is installed (.ci/run installs it). */
  static Path debianBin() throws IOException {
    Path lib = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(lib)) return null;
    try (Stream<Path> versions = Files.list(lib)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres")))
          .max(java.util.Comparator.comparing(p -> p.getParent().getFileName().toString())).orElse(null);
    }
  }

  static boolean isRoot() throws IOException {
    return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
  }

  /** Runs {@code cmd} as nobody when root (PostgreSQL refuses root), else as it is. */
  static List<String> asServerUser(List<String> cmd) throws IOException {
    List<String> out = new ArrayList<>();
    if (isRoot()) out.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
    out.addAll(cmd);
    return out;
  }

  static Connection connect(int port, String user, String password, String db) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/" + db, p);
  }

  @Test
  void databases_go_to_the_configured_server_as_a_non_superuser_administrator() throws Exception {
    Path bin = debianBin();
    Assumptions.assumeTrue(bin != null, "Debian's postgresql package is not installed (.ci/run installs it)");
    Path dir = Files.createTempDirectory("ferry-external-pg");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    Path cluster = dir.resolve("cluster"), pw = dir.resolve("pw"), log = dir.resolve("server.log");
    Files.writeString(pw, SUPERUSER_PASSWORD + "\n");
    if (isRoot()) {
      Files.createDirectories(cluster);
      for (Path p : List.of(cluster, pw)) new ProcessBuilder("chown", "nobody:nogroup", p.toString()).start().waitFor();
    }
    Process server = null;
    int port = RestartTest.freePort();
    try {
      Process initdb = new ProcessBuilder(asServerUser(List.of(bin.resolve("initdb").toString(), "-D", cluster.toString(), "-U", "postgres",
          "--pwfile=" + pw, "--auth=scram-sha-256", "--locale=C", "--encoding=UTF8")))
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      assertTrue(initdb.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, initdb.exitValue(), Files.readString(log));
      server = new ProcessBuilder(asServerUser(List.of(bin.resolve("postgres").toString(), "-D", cluster.toString(), "-p", String.valueOf(port),
          "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=")))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      Connection superuser = null;
      for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); superuser == null; TestPlatform.sleep(100)) {
        try {
          superuser = connect(port, "postgres", SUPERUSER_PASSWORD, "postgres");
        } catch (SQLException notYet) {
          if (System.nanoTime() > deadline || !server.isAlive()) throw new AssertionError("PostgreSQL did not start: " + Files.readString(log));
        }
      }
      try (Connection c = superuser; Statement s = c.createStatement()) {
        s.execute("CREATE ROLE ferry_admin LOGIN CREATEDB CREATEROLE PASSWORD '" + ADMIN_PASSWORD + "'");
      }

      try (TestPlatform ferry = TestPlatform.start(c -> c.with("maven.remoteRepositories", List.of(FileRepository.mavenLocalRepositoryUrl()))
          .with("resources.postgres.url", "postgresql://127.0.0.1:" + port + "/postgres?sslmode=disable")
          .with("resources.postgres.user", "ferry_admin")
          .with("resources.postgres.password", ADMIN_PASSWORD))) {
        JsonObject one = ferry.deploy("pg-notes", "one");
        assertEquals("deployed", one.getString("state"), one.encodePrettily());
        assertEquals("deployed", ferry.deploy("pg-notes", "two").getString("state"));
        HttpResponse<Buffer> posted = ferry.http.post(ferry.proxyPort(), "127.0.0.1", "/notes?text=on-the-server")
            .putHeader("Host", "one.localhost").send().await();
        assertEquals(201, posted.statusCode(), posted.bodyAsString());
        JsonObject notes = ferry.viaProxy("one", "/notes").bodyAsJsonObject();
        assertEquals(List.of("on-the-server"), notes.getJsonArray("notes").getList());
        String oneDb = notes.getString("database"), twoDb = ferry.viaProxy("two", "/notes").bodyAsJsonObject().getString("database");

        // on that server, owned by the service's own role; the other service's credentials are refused
        try (Connection c = connect(port, "postgres", SUPERUSER_PASSWORD, "postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" + oneDb + "'")) {
          assertTrue(rs.next(), oneDb + " is on the external server");
          assertEquals(oneDb, rs.getString(1));
        }
        JsonObject peek = ferry.viaProxy("two", "/peek?database=" + oneDb).bodyAsJsonObject();
        assertFalse(peek.getBoolean("connected"), peek.encode());
        JsonObject res = ferry.api(HttpMethod.GET, "/api/v1/services/one/resources").bodyAsJsonObject().getJsonArray("databases").getJsonObject(0);
        assertEquals("PostgreSQL server 127.0.0.1:" + port, res.getString("server"));
        assertFalse(Files.exists(ferry.dataDir.resolve("postgres")), "no embedded server");
        assertFalse(ferry.api(HttpMethod.GET, "/api/v1/services/one/deployments").bodyAsString().contains(ADMIN_PASSWORD));

        assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/one?purge=true").statusCode());
        try (Connection c = connect(port, "postgres", SUPERUSER_PASSWORD, "postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_database WHERE datname IN ('" + oneDb + "', '" + twoDb + "')")) {
          assertTrue(rs.next());
          assertEquals(1, rs.getInt(1), "one's database dropped, two's kept");
        }
      }
    } finally {
      if (server != null) {
        server.destroy();
        if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor();
      }
      TestPlatform.deleteTree(dir);
    }
  }
}
