package dev.ferry.settings;

import java.util.List;

/**
 * The {@code maven} section.
 *
 * @param localRepository null: settings.xml's {@code <localRepository>}, else {@code maven} in the data dir; a
 *     relative path is resolved against the data dir, an absolute one (say ~/.m2/repository) is kept
 * @param remoteRepositories {@code central} stands for Maven Central; other entries are http(s) or file URLs
 * @param offline {@code true} resolves from the local repository alone; {@code false} leaves it to settings.xml's {@code <offline>}
 * @param settings the user settings.xml; null: {@code ~/.m2/settings.xml}, as Maven reads it (over {@code $MAVEN_HOME/conf/settings.xml})
 */
public record MavenConfig(String localRepository, List<String> remoteRepositories, boolean offline, String settings) {

  public static final MavenConfig DEFAULTS = new MavenConfig(null, List.of("central"), false, null);

  public MavenConfig {
    localRepository = Check.blankToNull(localRepository);
    remoteRepositories = List.copyOf(remoteRepositories);
    settings = Check.blankToNull(settings);
  }
}
