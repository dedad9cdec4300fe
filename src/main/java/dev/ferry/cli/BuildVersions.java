package dev.ferry.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The versions {@code ferry init} and {@code ferry sdk} write: Ferry's own build's, from {@code versions.properties}. */
final class BuildVersions {

  private static final Properties VERSIONS = load();
  static final String VERTX = get("vertx");
  static final String COMPILER_PLUGIN = get("compilerPlugin");
  static final String EXEC_PLUGIN = get("execPlugin");

  private BuildVersions() {
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildVersions.class.getResourceAsStream("versions.properties")) {
      if (in == null) throw new IllegalStateException("versions.properties is missing: build Ferry with Maven");
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  private static String get(String name) {
    String v = VERSIONS.getProperty(name, "");
    // unfiltered (a build that skipped Maven's resources): better no template than one naming ${...}
    if (v.isBlank() || v.contains("${")) throw new IllegalStateException("versions.properties has no version for " + name + ": " + v);
    return v;
  }
}
