package dev.ferry.run;

import dev.ferry.load.ServiceClassLoader;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxThreadFactory;
import org.junit.jupiter.api.Test;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classloader trap from FIELD-NOTES, reproduced on a cold Vert.x: worker threads born while
 * service code is on the stack pin the service's loader, unless Ferry's thread factory made them.
 */
class IsolatingThreadFactoryTest {

  private static final Path TEST_CLASSES = Path.of("target/test-classes");

  @Test
  void threads_made_by_ferrys_factory_do_not_pin_a_service_loader() throws Exception {
    assertTrue(deployUndeployAndCollect(new IsolatingThreadFactory()), "service loader still reachable");
  }

  @Test
  void control_threads_made_by_the_stock_factory_do_pin_it() throws Exception {
    // if this ever passes, the trap is gone from Vert.x and the factory may be deleted
    assertFalse(deployUndeployAndCollect(VertxThreadFactory.INSTANCE), "the trap no longer reproduces");
  }

  /** Deploys the verticle through a fresh loader on a fresh Vert.x, undeploys; true if the loader is collected. */
  private static boolean deployUndeployAndCollect(VertxThreadFactory factory) throws Exception {
    Vertx vertx = VertxBootstrap.create().threadFactory(factory).init().vertx();
    try {
      ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
      PhantomReference<ClassLoader> ref = deployAndUndeploy(vertx, queue);
      for (int i = 0; i < 30; i++) {
        System.gc();
        if (queue.remove(100) == ref) return true;
      }
      return false;
    } finally {
      vertx.close().await();
    }
  }

  private static PhantomReference<ClassLoader> deployAndUndeploy(Vertx vertx, ReferenceQueue<ClassLoader> queue) throws Exception {
    ServiceClassLoader loader = new ServiceClassLoader("spawns", List.of(TEST_CLASSES), IsolatingThreadFactoryTest.class.getClassLoader());
    PhantomReference<ClassLoader> ref = new PhantomReference<>(loader, queue);
    String id = vertx.deployVerticle("fixture.threads.SpawnsWorkers", new DeploymentOptions().setClassLoader(loader)).await();
    vertx.undeploy(id).await();
    loader.close();
    return ref;
  }
}
