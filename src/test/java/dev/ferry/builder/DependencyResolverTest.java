package dev.ferry.builder;

import dev.ferry.Config;
import dev.ferry.TestPlatform;
import dev.ferry.deployment.StageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The resolver on its own, with real settings.xml files: failures that name what is missing, and
 * what settings.xml decides (offline, local repository, mirrors, the global file under the user's).
 * Dependencies come from a {@code file:} copy of Maven's local repository, so no network is needed;
 * the HTTP transport is tested through the shipped classpath in {@code HttpRepositoriesTest}.
 */
class DependencyResolverTest {

  /** Maven's local repository, which the build filled with what the fixtures use, as a remote. */
  static final String LOCAL_MAVEN = Path.of(System.getProperty("ferry.test.localRepository",
      System.getProperty("user.home") + "/.m2/repository")).toUri().toString();

  Path dir;
  Path settings;
  final List<String> lines = new ArrayList<>();
  final DependencyResolver.Progress progress = (level, line) -> lines.add(level + " " + line);

  @BeforeEach
  void tempDir() throws IOException {
    dir = Files.createTempDirectory("ferry-resolver");
    settings = dir.resolve("settings.xml");
  }

  @AfterEach
  void clean() {
    TestPlatform.deleteTree(dir);
  }

  /** A resolver with Ferry's own local repository unset, reading {@code settings} (which need not exist). */
  DependencyResolver resolver(List<String> remotes, boolean offline) {
    return new DependencyResolver(new MavenSetup(null, dir.resolve("repo"), remotes, offline, settings, null), dir.resolve("cache"));
  }

  void settings(String body) throws IOException {
    Files.writeString(settings, "<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">" + body + "</settings>");
  }

  @Test
  void offline_with_an_empty_local_repository_names_the_missing_artifact() {
    StageException e = assertThrows(StageException.class,
        () -> resolver(List.of(DependencyResolver.CENTRAL), true).resolve(TestPlatform.FIXTURES.resolve("greeter-v2"), progress));
    assertTrue(e.getMessage().contains("fixture.lib:greeter") && e.getMessage().contains("2.0"), e.getMessage());
    assertTrue(e.getMessage().contains("offline"), e.getMessage());
  }

  @Test
  void an_unreachable_repository_names_the_artifact_and_the_repository() throws IOException {
    int closed = closedPort();
    String url = "http://127.0.0.1:" + closed + "/maven2/";
    StageException e = assertThrows(StageException.class,
        () -> resolver(List.of(url), false).resolve(TestPlatform.FIXTURES.resolve("greeter-v2"), progress));
    assertTrue(e.getMessage().contains("fixture.lib:greeter") && e.getMessage().contains("2.0"), e.getMessage());
    assertTrue(e.getMessage().contains("Cannot reach") && e.getMessage().contains("127.0.0.1:" + closed), e.getMessage());
  }

  @Test
  void offline_in_settings_resolves_from_the_local_repository_alone() throws IOException {
    settings("<offline>true</offline>");
    StageException e = assertThrows(StageException.class,
        () -> resolver(List.of(LOCAL_MAVEN), false).resolve(TestPlatform.FIXTURES.resolve("jackson"), progress));
    assertTrue(e.getMessage().contains("jackson-databind") && e.getMessage().contains("offline"), e.getMessage());
  }

  @Test
  void the_settings_local_repository_is_used_only_when_ferry_names_none() throws Exception {
    Path fromSettings = dir.resolve("from-settings"), ferrys = dir.resolve("ferrys");
    settings("<localRepository>" + fromSettings + "</localRepository>");
    Resolution r = resolver(List.of(LOCAL_MAVEN), false).resolve(TestPlatform.FIXTURES.resolve("jackson"), progress);
    assertTrue(r.bundled().stream().allMatch(p -> p.startsWith(fromSettings)), r.bundled().toString());

    DependencyResolver withOwn = new DependencyResolver(new MavenSetup(ferrys, dir.resolve("repo"), List.of(LOCAL_MAVEN), false, settings, null),
        dir.resolve("cache"));
    Resolution own = withOwn.resolve(TestPlatform.FIXTURES.resolve("jackson"), progress);
    assertTrue(own.bundled().stream().allMatch(p -> p.startsWith(ferrys)), own.bundled().toString());
  }

  @Test
  void the_global_settings_under_maven_home_apply_beneath_the_users() throws Exception {
    Path home = dir.resolve("maven-home"), global = home.resolve("conf/settings.xml");
    Files.createDirectories(global.getParent());
    Files.writeString(global, "<settings><localRepository>" + dir.resolve("global-repo") + "</localRepository>"
        + "<mirrors><mirror><id>corp</id><url>http://127.0.0.1:" + closedPort() + "/maven2/</url><mirrorOf>*</mirrorOf></mirror></mirrors>"
        + "</settings>");
    settings("<localRepository>" + dir.resolve("user-repo") + "</localRepository>");
    Config config = Config.DEFAULTS.with("maven.settings", settings.toString()).with("maven.remoteRepositories", List.of(LOCAL_MAVEN));
    MavenSetup setup = MavenSetup.from(config.maven(), dir.resolve("data"), Map.of("MAVEN_HOME", home.toString()));
    assertEquals(global, setup.globalSettings());
    StageException e = assertThrows(StageException.class,
        () -> new DependencyResolver(setup, dir.resolve("cache")).resolve(TestPlatform.FIXTURES.resolve("jackson"), progress));
    // the mirror from the global file, the local repository from the user's
    assertTrue(e.getMessage().contains("Cannot reach corp ("), e.getMessage());
    assertTrue(lines.stream().anyMatch(l -> l.endsWith("local repository " + dir.resolve("user-repo"))), lines.toString());
  }

  @Test
  void a_parent_pom_comes_from_a_repository_the_service_pom_declares() throws Exception {
    Path parents = dir.resolve("parents"), parentDir = parents.resolve("fixture/corp/corp-parent/1.0");
    Files.createDirectories(parentDir);
    Files.writeString(parentDir.resolve("corp-parent-1.0.pom"), """
        <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
          <groupId>fixture.corp</groupId><artifactId>corp-parent</artifactId><version>1.0</version><packaging>pom</packaging>
          <dependencyManagement><dependencies><dependency><groupId>com.fasterxml.jackson.core</groupId>
            <artifactId>jackson-databind</artifactId><version>2.18.2</version></dependency></dependencies></dependencyManagement>
        </project>
        """);
    Path service = dir.resolve("service");
    Files.createDirectories(service);
    Files.writeString(service.resolve("pom.xml"), """
        <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
          <parent><groupId>fixture.corp</groupId><artifactId>corp-parent</artifactId><version>1.0</version></parent>
          <artifactId>child</artifactId>
          <repositories><repository><id>corp</id><url>%s</url></repository></repositories>
          <dependencies><dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId></dependency></dependencies>
        </project>
        """.formatted(parents.toUri()));
    Resolution r = resolver(List.of(LOCAL_MAVEN), false).resolve(service, progress);
    assertTrue(r.bundled().stream().anyMatch(p -> p.getFileName().toString().equals("jackson-databind-2.18.2.jar")), r.bundled().toString());
    assertTrue(lines.stream().anyMatch(l -> l.contains("resolving from corp (" + parents.toUri())), lines.toString());
  }

  @Test
  void by_default_the_settings_are_the_users_and_the_local_repository_is_in_the_data_dir() {
    MavenSetup setup = MavenSetup.from(Config.DEFAULTS.maven(), dir, Map.of());
    assertEquals(Path.of(System.getProperty("user.home"), ".m2", "settings.xml"), setup.userSettings());
    assertEquals(null, setup.globalSettings(), "no MAVEN_HOME, no global settings");
    assertEquals(null, setup.localRepository(), "unset: settings.xml decides, else the default");
    assertEquals(dir.resolve("maven").toAbsolutePath(), setup.defaultLocalRepository());
    assertEquals(List.of(DependencyResolver.CENTRAL), setup.remoteRepositories());
  }

  @Test
  void a_settings_file_that_does_not_exist_is_refused_at_start() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> MavenSetup.from(Config.DEFAULTS.with("maven.settings", dir.resolve("nope.xml").toString()).maven(), dir, Map.of()));
    assertTrue(e.getMessage().contains("maven.settings") && e.getMessage().contains("nope.xml"), e.getMessage());
  }

  @Test
  void malformed_settings_name_the_file_and_line_and_the_next_build_reads_the_fixed_file() throws Exception {
    Files.writeString(settings, "<settings>\n  <mirrors>\n    <mirror>\n</settings>\n");
    DependencyResolver r = resolver(List.of(LOCAL_MAVEN), false);
    StageException e = assertThrows(StageException.class, () -> r.resolve(TestPlatform.FIXTURES.resolve("jackson"), progress));
    assertTrue(e.getMessage().contains(settings.toString()) && e.getMessage().matches("(?s).*settings\\.xml:\\d+: .*"), e.getMessage());
    settings("");
    assertFalse(r.resolve(TestPlatform.FIXTURES.resolve("jackson"), progress).bundled().isEmpty());
  }

  @Test
  void a_mirror_of_everything_takes_a_file_repository_and_one_of_external_ones_does_not() throws Exception {
    String mirror = "<mirrors><mirror><id>corp</id><url>http://127.0.0.1:" + closedPort() + "/maven2/</url><mirrorOf>%s</mirrorOf></mirror></mirrors>";
    settings(mirror.formatted("external:*"));
    assertFalse(resolver(List.of(LOCAL_MAVEN), false).resolve(TestPlatform.FIXTURES.resolve("jackson"), progress).bundled().isEmpty());

    settings(mirror.formatted("*"));
    StageException e = assertThrows(StageException.class,
        () -> resolver(List.of(LOCAL_MAVEN), false).resolve(TestPlatform.FIXTURES.resolve("jackson"), progress));
    assertTrue(e.getMessage().contains("Cannot reach corp (") && e.getMessage().contains("mirror of repo-"), e.getMessage());
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
