package dev.ferry.builder;

import dev.ferry.deployment.RunSettings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a service's pom decides for its build: the entry verticle, how to compile (release,
 * {@code -parameters}, annotation processors) and the jars it compiles and runs with. Only
 * {@code bundled} jars go into the service's classloader; {@code compileOnly} ones ({@code provided})
 * are on the compile classpath alone.
 */
record Resolution(Optional<String> mainVerticle, Optional<String> readinessPath, int release, boolean parameters, List<Path> bundled,
                  List<Path> compileOnly, List<Path> processorPath, List<String> processors,
                  boolean processorsOnClasspath, List<String> warnings, RunSettings settings) {

  /** The release a service compiles for when its pom does not say. */
  static final int DEFAULT_RELEASE = 17;

  /** A service without a pom: the platform's defaults, nothing to resolve. */
  static final Resolution NONE = new Resolution(Optional.empty(), Optional.empty(), DEFAULT_RELEASE, false, List.of(), List.of(), List.of(),
      List.of(), false, List.of(), RunSettings.DEFAULT);

  Resolution {
    bundled = List.copyOf(bundled);
    compileOnly = List.copyOf(compileOnly);
    processorPath = List.copyOf(processorPath);
    processors = List.copyOf(processors);
    warnings = List.copyOf(warnings);
  }

  /** Every jar the service's sources compile against, besides the shared ones. */
  List<Path> classpath() {
    return Stream.concat(bundled.stream(), compileOnly.stream()).toList();
  }

  /** Whether every jar it names is still on disk (a local repository may have been cleaned). */
  boolean present() {
    return Stream.of(bundled, compileOnly, processorPath).flatMap(List::stream).allMatch(Files::isRegularFile);
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("mainVerticle", mainVerticle.orElse(null))
        .put("readinessPath", readinessPath.orElse(null))
        .put("release", release)
        .put("parameters", parameters)
        .put("bundled", paths(bundled))
        .put("compileOnly", paths(compileOnly))
        .put("processorPath", paths(processorPath))
        .put("processors", new JsonArray(processors))
        .put("processorsOnClasspath", processorsOnClasspath)
        .put("warnings", new JsonArray(warnings))
        .put("settings", settings.toJson());
  }

  static Resolution fromJson(JsonObject json) {
    return new Resolution(Optional.ofNullable(json.getString("mainVerticle")),
        Optional.ofNullable(json.getString("readinessPath")), json.getInteger("release"),
        json.getBoolean("parameters"), paths(json.getJsonArray("bundled")), paths(json.getJsonArray("compileOnly")),
        paths(json.getJsonArray("processorPath")), strings(json.getJsonArray("processors")),
        json.getBoolean("processorsOnClasspath"), strings(json.getJsonArray("warnings")), RunSettings.fromJson(json.getJsonObject("settings")));
  }

  private static JsonArray paths(List<Path> paths) {
    return new JsonArray(paths.stream().map(Path::toString).toList());
  }

  private static List<Path> paths(JsonArray a) {
    return strings(a).stream().map(Path::of).toList();
  }

  private static List<String> strings(JsonArray a) {
    return a.stream().map(String::valueOf).toList();
  }
}
