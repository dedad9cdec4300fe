package dev.ferry.settings;

/**
 * The {@code artifacts} section.
 *
 * @param keep how many of a service's newest artifacts are kept (older ones are deleted; running ones always stay)
 */
public record ArtifactsConfig(int keep) {

  public static final ArtifactsConfig DEFAULTS = new ArtifactsConfig(5);

  public ArtifactsConfig {
    Check.positive("artifacts.keep", keep);
  }
}
