package dev.ferry;

import dev.ferry.deployment.Addresses;
import dev.ferry.deployment.Deployment;
import dev.ferry.deployment.DeploymentState;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Deploys and undeploys services many times and proves, with PhantomReferences, that every service
 * classloader is collected afterwards (see FIELD-NOTES on the thread trap).
 */
class ClassLoaderLeakTest {

  private static final int CYCLES = 12;

  @Test
  void service_classloaders_are_collected_after_undeploy() throws Exception {
    ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
    List<Reference<ClassLoader>> refs = new CopyOnWriteArrayList<>();
    try (TestPlatform ferry = TestPlatform.start()) {
      // watch every loader on its way to the runtime, holding it only by a phantom reference
      ferry.vertx.eventBus().addOutboundInterceptor(ctx -> {
        if (Addresses.RUN.equals(ctx.message().address()) && ctx.body() instanceof Deployment d
            && d.state() instanceof DeploymentState.Loaded loaded) {
          refs.add(new PhantomReference<>(loaded.loader(), queue));
        }
        ctx.next();
      });
      for (int i = 0; i < CYCLES; i++) {
        // services that make Vert.x start threads from their code, use Vert.x Web, plain core, or
        // leave periodic and one-shot timers running (Vert.x cancels them on undeploy)
        String fixture = List.of("uses-workers", "rest", "hello", "starts-timers").get(i % 4);
        assertEquals("deployed", ferry.deploy(fixture, "churn").getString("state"));
        for (int k = 0; k < 4; k++) {
          assertEquals(200, ferry.viaProxy("churn", fixture.equals("rest") ? "/todos" : "/").statusCode());
        }
      }
      assertEquals(200, ferry.api(HttpMethod.DELETE, "/api/v1/services/churn").statusCode());
      assertEquals(0, ferry.platform.runtime().runningCount());
      assertEquals(CYCLES, refs.size());

      int collected = 0;
      for (int round = 0; round < 50 && collected < CYCLES; round++) {
        System.gc();
        Reference<?> r;
        while ((r = queue.remove(100)) != null) {
          collected++;
        }
      }
      assertEquals(CYCLES, collected, "service classloaders still reachable after undeploy");
    }
  }
}
