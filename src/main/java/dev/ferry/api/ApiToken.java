package dev.ferry.api;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The one token that lets a caller change or read deployments: the API, the log streams and both
 * event-bus bridges check it here. It is the configured one ({@code FERRY_TOKEN} or the config's
 * {@code token}), else the one in {@code <data dir>/token}, generated on the first start. A stored
 * token can be rotated ({@link #rotate}): the old one is refused from the next request on.
 */
public final class ApiToken {

  private static final Logger log = LoggerFactory.getLogger(ApiToken.class);
  static final String CHALLENGE = "Bearer realm=\"ferry\"";

  private volatile byte[] digest;
  /** Where the token is stored; null when it is configured (FERRY_TOKEN, the config's token), which only its owner changes. */
  private final Path file;

  private ApiToken(String token, Path file) {
    this.digest = sha256(token);
    this.file = file;
  }

  public static ApiToken of(String token) {
    if (token == null || token.isBlank()) throw new IllegalArgumentException("The API token must not be empty");
    return new ApiToken(token, null);
  }

  /** Thrown when the token cannot be rotated here: it is configured. */
  public static final class Configured extends IllegalStateException {
    Configured() {
      super("The API token is set by FERRY_TOKEN or the config's token: change it there and restart the platform", null);
    }
  }

  /**
   * Replaces the stored token with a new random one (written to its file, mode 0600, atomically)
   * and returns it; the old one is refused from now on. Blocks.
   */
  public synchronized String rotate() {
    if (file == null) throw new Configured();
    String token = generate();
    try {
      store(token, file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the new API token to " + file, e);
    }
    digest = sha256(token);
    log.info("The API token was rotated; the new one is in {}", file);
    return token;
  }

  /** The file the token is stored in, or null when it is configured. */
  public Path file() {
    return file;
  }

  /** The configured token, else the stored one, else a new one stored with mode 0600 (blocking). */
  public static ApiToken resolve(String configured, Path file) {
    if (configured != null && !configured.isBlank()) return of(configured);
    try {
      if (Files.exists(file)) {
        String stored = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (stored.isEmpty()) throw new IllegalStateException("The token file " + file + " is empty; delete it to generate a new token");
        return new ApiToken(stored, file);
      }
      String token = generate();
      store(token, file);
      log.info("Generated the API token, stored in {} (mode 0600); it is shown once: {}", file, token);
      return new ApiToken(token, file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or create the API token file " + file, e);
    }
  }

  private static String generate() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  /** Writes {@code token} to {@code file} with mode 0600, replacing it atomically. */
  private static void store(String token, Path file) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), ".token", null, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Whether {@code presented} is the token; digests of equal length are compared in constant time. */
  public boolean matches(String presented) {
    return presented != null && MessageDigest.isEqual(digest, sha256(presented));
  }

  /** {@code Authorization: Bearer <token>}, else {@code ?token=} (browsers cannot set headers on WebSockets). */
  public static String presented(HttpServerRequest req) {
    String auth = req.getHeader(HttpHeaders.AUTHORIZATION);
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) return auth.substring(7).trim();
    return req.getParam("token");
  }

  /**
   * A route handler: passes a request that carries the token, answers any other 401 at once, before
   * its body is read, and closes the connection so an upload's body is never read.
   */
  public void check(RoutingContext ctx) {
    if (matches(presented(ctx.request()))) {
      ctx.next();
      return;
    }
    boolean absent = presented(ctx.request()) == null;
    ctx.response().putHeader("WWW-Authenticate", CHALLENGE).putHeader(HttpHeaders.CONNECTION, "close");
    Api.error(ctx, 401, "unauthorized", absent
        ? "This call needs the API token: send Authorization: Bearer <token> (see <data dir>/token or FERRY_TOKEN)"
        : "The API token is wrong");
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
