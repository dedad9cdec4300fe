package dev.ferry.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the API, the log streams and the bridges show of the platform's JSON: the same, without
 * the server's file paths. An artifact loses its {@code path} and lists its dependencies by file
 * name; any other string that names a place under the data dir or the Maven repository names it
 * as {@code <data dir>/...} or {@code <maven repository>/...} (a build error quoting a file, say).
 */
final class PublicView {

  /** Absolute prefix → what it is shown as; longest first, so a repository inside the data dir wins. */
  private final Map<String, String> places = new LinkedHashMap<>();

  PublicView(Path dataDir, Path... mavenRepositories) {
    Map<String, String> found = new LinkedHashMap<>();
    for (Path repository : mavenRepositories) add(found, repository, "<maven repository>");
    add(found, dataDir, "<data dir>");
    found.entrySet().stream().sorted((a, b) -> b.getKey().length() - a.getKey().length())
        .forEach(e -> places.put(e.getKey(), e.getValue()));
  }

  private static void add(Map<String, String> to, Path p, String name) {
    Path abs = p.toAbsolutePath().normalize();
    to.put(abs.toString(), name);
    try {
      to.putIfAbsent(abs.toRealPath().toString(), name);
    } catch (IOException notYet) {
      // not created yet: its absolute path is enough
    }
  }

  /** {@code json} as a client may see it (a copy). */
  JsonObject of(JsonObject json) {
    return json == null ? null : (JsonObject) view(json.copy(), null);
  }

  String scrub(String s) {
    if (s == null) return null;
    for (Map.Entry<String, String> e : places.entrySet()) {
      if (s.contains(e.getKey())) s = s.replace(e.getKey(), e.getValue());
    }
    return s;
  }

  private Object view(Object value, String key) {
    if (value instanceof JsonObject o) {
      if ("artifact".equals(key)) {
        o.remove("path");
        JsonArray deps = o.getJsonArray("dependencies");
        if (deps != null) {
          JsonArray names = new JsonArray();
          deps.forEach(d -> names.add(Path.of(String.valueOf(d)).getFileName().toString()));
          o.put("dependencies", names);
        }
      }
      for (String k : o.fieldNames()) o.put(k, view(o.getValue(k), k));
      return o;
    }
    if (value instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) a.set(i, view(a.getValue(i), null));
      return a;
    }
    return value instanceof String s ? scrub(s) : value;
  }
}
