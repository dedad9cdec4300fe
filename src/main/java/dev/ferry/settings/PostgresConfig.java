package dev.ferry.settings;

/**
 * The {@code resources.postgres} section.
 *
 * @param url an existing PostgreSQL server for services' databases ({@code postgresql://host:5432/postgres}); null: the embedded one
 * @param user the administrator the platform connects to {@code url} as (may create roles and databases)
 * @param password that administrator's password
 * @param port the embedded PostgreSQL's port; 0: a free one, chosen on its first start and kept
 */
public record PostgresConfig(String url, String user, String password, int port) {

  public static final PostgresConfig DEFAULTS = new PostgresConfig(null, null, null, 0);

  public PostgresConfig {
    url = Check.blankToNull(url) == null ? null : url.trim();
    user = Check.blankToNull(user);
    password = password == null || password.isEmpty() ? null : password;
    Check.port("resources.postgres.port", port);
  }

  /** Without the password: a config may end up in a log. */
  @Override
  public String toString() {
    return "PostgresConfig[url=" + url + ", user=" + user + ", password=" + (password == null ? null : "***") + ", port=" + port + "]";
  }
}
