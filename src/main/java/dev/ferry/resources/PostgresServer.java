package dev.ferry.resources;

import dev.ferry.deployment.StageException;

import java.sql.Connection;
import java.util.function.Consumer;

/** A PostgreSQL server the platform provisions databases on: its own embedded one, or an existing one. */
interface PostgresServer extends AutoCloseable {

  /** Names the server in the store: databases are kept per server. */
  String id();

  /** What the deploy log and the API call it. */
  String describe();

  /** Where services reach it. */
  String host();

  int port();

  /** Query parameters of the URI handed to services ({@code ?sslmode=require}), or "". */
  String uriParameters();

  /**
   * A new connection as the administrator (to the maintenance database), starting the server first
   * if it is the platform's own and not running; {@code progress} hears what takes time.
   */
  Connection admin(Consumer<String> progress) throws StageException;

  @Override
  void close();
}
