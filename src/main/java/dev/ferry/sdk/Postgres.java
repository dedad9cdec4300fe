package dev.ferry.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The service needs a PostgreSQL database of its own, named {@code value} within the service. Put
 * it on the entry verticle; Ferry provisions the database (and a role only it can use) when it
 * loads the service, and hands the connection over in the verticle's config:
 *
 * <pre>{@code
 * @Postgres("orders")
 * public class Main extends VerticleBase {
 *   public Future<?> start() {
 *     JsonObject db = config().getJsonObject("ferry.postgres").getJsonObject("orders");
 *     // {host, port, database, user, password, uri}
 *   }
 * }
 * }</pre>
 *
 * The data outlives deployments. Outside Ferry, put the same keys in the verticle's config.
 * Repeatable: one database per name.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Repeatable(Postgres.List.class)
public @interface Postgres {

  /** The database's name within the service: 1-32 of a-z, 0-9, '_' and '-', starting with a letter. */
  String value();

  /** Holds several {@link Postgres} on one class (the compiler writes it). */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.TYPE)
  @interface List {
    Postgres[] value();
  }
}
