package dev.ferry.settings;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One rule from a record of settings to its keys, its JSON and its environment variables: a key is
 * the path of record components ({@code build.queueCapacity}), its variable that path in upper snake
 * case behind {@code FERRY_} ({@code FERRY_BUILD_QUEUE_CAPACITY}). Nothing spells a key twice.
 */
public final class Keys {

  private Keys() {
  }

  /** Every leaf key of {@code type} and the Java type its value has, in declaration order. */
  public static Map<String, Class<?>> of(Class<? extends Record> type) {
    Map<String, Class<?>> keys = new LinkedHashMap<>();
    collect(type, "", keys);
    return keys;
  }

  private static void collect(Class<?> type, String prefix, Map<String, Class<?>> into) {
    for (RecordComponent c : type.getRecordComponents()) {
      if (c.getType().isRecord()) collect(c.getType(), prefix + c.getName() + ".", into);
      else into.put(prefix + c.getName(), c.getType());
    }
  }

  /** {@code build.queueCapacity} → {@code FERRY_BUILD_QUEUE_CAPACITY}. */
  public static String envName(String key) {
    return "FERRY_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace('.', '_').toUpperCase(Locale.ROOT);
  }

  /** The values {@code env} gives keys of {@code type} (under their derived names, else {@code aliases}'), typed, as nested JSON. */
  public static JsonObject fromEnv(Class<? extends Record> type, Map<String, String> env, Map<String, String> aliases) {
    JsonObject json = new JsonObject();
    of(type).forEach((key, t) -> {
      String name = envName(key), v = env.get(name);
      if (v == null && aliases.containsKey(key)) v = env.get(name = aliases.get(key));
      if (v != null) put(json, key, parse(name + " (" + key + ")", v, t));
    });
    return json;
  }

  private static Object parse(String what, String v, Class<?> t) {
    try {
      if (t == int.class) return Integer.parseInt(v.trim());
      if (t == long.class) return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " is not a number: " + v);
    }
    if (t == boolean.class) {
      String b = v.trim().toLowerCase(Locale.ROOT);
      if (!b.equals("true") && !b.equals("false")) throw new IllegalArgumentException(what + " must be true or false, not " + v);
      return Boolean.parseBoolean(b);
    }
    // lists are comma-separated: FERRY_RUN_JVM_OPTIONS=-XX:+UseZGC,-Xss512k
    if (t == List.class) return new JsonArray(v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s*,\\s*")));
    return v;
  }

  /** Sets {@code key} (a dotted path) in {@code json}, making the sections on its way. */
  public static void put(JsonObject json, String key, Object value) {
    String[] path = key.split("\\.");
    JsonObject at = json;
    for (int i = 0; i < path.length - 1; i++) {
      JsonObject next = at.getJsonObject(path[i]);
      if (next == null) at.put(path[i], next = new JsonObject());
      at = next;
    }
    at.put(path[path.length - 1], json(value));
  }

  /** The JSON of a record of settings, nested as its components are. */
  public static JsonObject toJson(Record r) {
    JsonObject json = new JsonObject();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      Object v;
      try {
        v = c.getAccessor().invoke(r);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
      json.put(c.getName(), v instanceof Record nested ? toJson(nested) : json(v));
    }
    return json;
  }

  private static Object json(Object value) {
    return value instanceof Path p ? p.toString() : value instanceof List<?> l ? new JsonArray(new ArrayList<>(l)) : value;
  }

  /** A record of {@code type} from {@code json}, which has every key (defaults merged in); {@code prefix} names its keys in errors. */
  public static <R extends Record> R fromJson(Class<R> type, String prefix, JsonObject json) {
    RecordComponent[] components = type.getRecordComponents();
    Object[] args = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      String key = prefix + c.getName();
      Object raw = json.getValue(c.getName());
      if (c.getType().isRecord()) {
        if (!(raw instanceof JsonObject section)) throw new IllegalArgumentException(key + " must be an object, not " + raw);
        args[i] = fromJson(c.getType().asSubclass(Record.class), key + ".", section);
      } else {
        args[i] = value(key, raw, c.getType());
      }
    }
    try {
      Constructor<R> canonical = type.getDeclaredConstructor(types);
      return canonical.newInstance(args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object value(String key, Object raw, Class<?> t) {
    if (t == int.class || t == long.class) {
      if (!(raw instanceof Number n) || n.doubleValue() != n.longValue()) {
        throw new IllegalArgumentException(key + " must be a whole number, not " + raw);
      }
      if (t == long.class) return n.longValue();
      if (n.longValue() != n.intValue()) throw new IllegalArgumentException(key + " is out of range: " + raw);
      return n.intValue();
    }
    if (t == boolean.class) {
      if (!(raw instanceof Boolean)) throw new IllegalArgumentException(key + " must be true or false, not " + raw);
      return raw;
    }
    if (t == List.class) {
      if (raw == null) return List.of();
      if (!(raw instanceof JsonArray a)) throw new IllegalArgumentException(key + " must be a list, not " + raw);
      return a.stream().map(String::valueOf).toList();
    }
    if (raw != null && !(raw instanceof String)) throw new IllegalArgumentException(key + " must be a string, not " + raw);
    return t == Path.class ? (raw == null ? null : Path.of((String) raw)) : raw;
  }
}
