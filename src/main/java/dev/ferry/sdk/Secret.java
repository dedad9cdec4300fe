package dev.ferry.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The service needs the secret {@code value} (an API key, say), set by its operator with
 * {@code ferry secrets set NAME KEY=...}. Put it on the entry verticle; a deployment whose secret
 * is not set fails at load, naming it. The value arrives in the verticle's config:
 * {@code config().getJsonObject("ferry.secrets").getString("STRIPE_KEY")}. Changing it restarts the
 * service with the new value. Repeatable.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Repeatable(Secret.List.class)
public @interface Secret {

  /** The secret's key: a letter or '_', then letters, digits and '_' (at most 128). */
  String value();

  /** Holds several {@link Secret} on one class (the compiler writes it). */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.TYPE)
  @interface List {
    Secret[] value();
  }
}
