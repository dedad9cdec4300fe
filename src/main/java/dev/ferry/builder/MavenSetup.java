package dev.ferry.builder;

import dev.ferry.settings.MavenConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where dependencies come from, as the platform is configured: Ferry's {@code maven.*} keys and the
 * settings.xml files Maven would read. The files themselves are read at each resolution (see
 * {@link MavenSession}), so an edit applies to the next build, as it would to the next {@code mvn}.
 *
 * @param localRepository Ferry's own {@code maven.localRepository}, or null when unset
 * @param defaultLocalRepository the local repository when neither Ferry nor settings.xml names one
 * @param remoteRepositories {@code maven.remoteRepositories}: URLs, or {@value DependencyResolver#CENTRAL}
 * @param offline {@code maven.offline}: true forces offline; false leaves it to settings.xml
 * @param userSettings the user settings.xml (it need not exist)
 * @param globalSettings the global settings.xml, or null
 */
public record MavenSetup(Path localRepository, Path defaultLocalRepository, List<String> remoteRepositories, boolean offline,
                         Path userSettings, Path globalSettings) {

  public MavenSetup {
    remoteRepositories = List.copyOf(remoteRepositories);
  }

  /**
   * The setup {@code config} describes for a platform whose data dir is {@code dataDir}: the user
   * settings are {@code maven.settings} (which must exist) else {@code ~/.m2/settings.xml}; the global
   * ones {@code $MAVEN_HOME/conf/settings.xml} when {@code env} has {@code MAVEN_HOME}.
   */
  public static MavenSetup from(MavenConfig config, Path dataDir, Map<String, String> env) {
    Path user;
    if (config.settings() != null) {
      user = Path.of(config.settings()).toAbsolutePath();
      if (!Files.isRegularFile(user)) throw new IllegalArgumentException("maven.settings: no such file: " + user);
    } else {
      user = Path.of(System.getProperty("user.home"), ".m2", "settings.xml");
    }
    String mavenHome = env.get("MAVEN_HOME");
    Path global = mavenHome == null || mavenHome.isBlank() ? null : Path.of(mavenHome, "conf", "settings.xml");
    Path local = config.localRepository() == null ? null : dataDir.resolve(config.localRepository()).toAbsolutePath();
    return new MavenSetup(local, dataDir.resolve("maven").toAbsolutePath(), config.remoteRepositories(), config.offline(),
        user, global);
  }
}
