package dev.ferry.resources;

import dev.ferry.deployment.StageException;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * An existing PostgreSQL server ({@code resources.postgres.url}), the production path: the platform
 * connects as an administrator that may create roles and databases ({@code CREATEROLE CREATEDB}, or a
 * superuser) and makes one database and role per (service, name) on it.
 */
final class ExternalPostgres implements PostgresServer {

  private final String host;
  private final int port;
  private final String adminDatabase;
  private final String user;
  private final String password;
  private final Map<String, String> parameters;

  /**
   * {@code url}: {@code postgresql://[user[:password]@]host[:port][/database][?sslmode=...]} (or the same
   * with {@code jdbc:}); {@code user} and {@code password} override those of the URL.
   */
  ExternalPostgres(String url, String user, String password) {
    String u = url.startsWith("jdbc:") ? url.substring(5) : url;
    URI uri;
    try {
      uri = URI.create(u);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("resources.postgres.url is not a URL: " + e.getMessage());
    }
    if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("resources.postgres.url must look like postgresql://host:5432/postgres, not " + redacted(url));
    }
    this.host = uri.getHost();
    this.port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    this.adminDatabase = path.isEmpty() ? "postgres" : path;
    String[] info = uri.getRawUserInfo() == null ? new String[0] : uri.getRawUserInfo().split(":", 2);
    this.user = user != null ? user : info.length > 0 ? decode(info[0]) : null;
    this.password = password != null ? password : info.length > 1 ? decode(info[1]) : null;
    if (this.user == null) throw new IllegalArgumentException("resources.postgres.user (or a user in resources.postgres.url) is needed");
    this.parameters = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String kv : uri.getRawQuery().split("&")) {
        String[] p = kv.split("=", 2);
        if (p.length == 2) parameters.put(decode(p[0]), decode(p[1]));
      }
    }
  }

  /** The URL without its password, for messages. */
  static String redacted(String url) {
    return url.replaceAll("//([^:/@]+):[^@/]*@", "//$1:***@");
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  @Override
  public String id() {
    return host + ":" + port;
  }

  @Override
  public String describe() {
    return "PostgreSQL server " + host + ":" + port;
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public String uriParameters() {
    String sslmode = parameters.get("sslmode");
    return sslmode == null ? "" : "?sslmode=" + sslmode;
  }

  @Override
  public Connection admin(Consumer<String> progress) throws StageException {
    Properties p = new Properties();
    parameters.forEach(p::setProperty);
    p.setProperty("user", user);
    if (password != null) p.setProperty("password", password);
    p.putIfAbsent("connectTimeout", "10");
    try {
      Connection c = new org.postgresql.Driver().connect("jdbc:postgresql://" + hostForUrl() + ":" + port + "/" + adminDatabase, p);
      if (c == null) throw new SQLException("the PostgreSQL driver did not take the URL");
      return c;
    } catch (SQLException e) {
      throw new StageException("Cannot connect to the PostgreSQL server " + host + ":" + port + " as " + user + " (resources.postgres.url): "
          + e.getMessage(), e);
    }
  }

  private String hostForUrl() {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  @Override
  public void close() {
    // not ours to stop
  }
}
