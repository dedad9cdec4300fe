package dev.ferry.common;

import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a runner hears that a service's deployment ended ({@link VertxInternals#onEnd}). */
class VertxInternalsTest {

  private static final class Quiet extends VerticleBase {
  }

  @Test
  void the_end_of_a_deployment_is_heard_when_it_is_undeployed_when_its_vertx_closes_and_at_once_when_it_has_ended_already() {
    Vertx vertx = Vertx.vertx();
    try {
      AtomicInteger undeployed = new AtomicInteger(), other = new AtomicInteger(), late = new AtomicInteger();
      String id = vertx.deployVerticle(new Quiet()).await();
      String neighbour = vertx.deployVerticle(new Quiet()).await();
      VertxInternals.onEnd(vertx, id, undeployed::incrementAndGet);
      VertxInternals.onEnd(vertx, neighbour, other::incrementAndGet);
      vertx.undeploy(id).await();
      assertEquals(1, undeployed.get(), "its undeploy is heard");
      assertEquals(0, other.get(), "another deployment's is not");
      VertxInternals.onEnd(vertx, id, late::incrementAndGet);
      assertEquals(1, late.get(), "ended before anyone listened: heard at once");
      vertx.close().await();
      assertTrue(other.get() >= 1, "the close of its Vert.x ends the other: " + other.get());
    } finally {
      vertx.close();
    }
  }

  @Test
  void nothing_is_heard_while_the_deployment_serves() {
    Vertx vertx = Vertx.vertx();
    try {
      AtomicInteger heard = new AtomicInteger();
      VertxInternals.onEnd(vertx, vertx.deployVerticle(new Quiet()).await(), heard::incrementAndGet);
      vertx.deployVerticle(new Quiet()).await(); // another one comes and goes
      vertx.undeploy(vertx.deployVerticle(new Quiet()).await()).await();
      assertEquals(0, heard.get());
    } finally {
      vertx.close().await();
    }
  }
}
