package dev.ferry.cli;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * What {@code ferry login} stores: the server and its token, in {@code $XDG_CONFIG_HOME/ferry/config.json}
 * (default {@code ~/.config/ferry/config.json}), readable by its owner only.
 */
record UserConfig(String server, String token) {

  static final UserConfig NONE = new UserConfig(null, null);

  static Path file(Map<String, String> env) {
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("ferry").resolve("config.json");
  }

  /** The stored config; {@link #NONE} if there is none. A file that is not JSON is an error that names it. */
  static UserConfig read(Map<String, String> env) {
    Path f = file(env);
    if (!Files.isRegularFile(f)) return NONE;
    try {
      JsonObject json = new JsonObject(Files.readString(f));
      return new UserConfig(json.getString("server"), json.getString("token"));
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("Cannot read " + f + ": " + e.getMessage() + " (ferry login writes it again)");
    }
  }

  /** Writes this config, owner-only from its first byte, replacing the file in one step. */
  void write(Map<String, String> env) throws IOException {
    Path f = file(env);
    Files.createDirectories(f.getParent(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path tmp = Files.createTempFile(f.getParent(), "config", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      JsonObject json = new JsonObject();
      if (server != null) json.put("server", server);
      if (token != null) json.put("token", token);
      Files.writeString(tmp, json.encodePrettily() + "\n");
      try {
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
