package dev.ferry.load;

import dev.ferry.deployment.StageException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bytecode check on classes compiled here, one per forbidden call. */
class BytecodePolicyTest {

  static final BytecodePolicy DEFAULT = new BytecodePolicy(dev.ferry.settings.LoadConfig.DEFAULTS.forbiddenCalls());

  static class Exits { void run() { System.exit(1); } }
  static class ExitsViaRuntime { void run() { Runtime.getRuntime().exit(1); } }
  static class Halts { void run() { Runtime.getRuntime().halt(1); } }
  static class Execs { void run() throws IOException { Runtime.getRuntime().exec(new String[] {"true"}); } }
  static class StartsProcess { void run() throws IOException { new ProcessBuilder("true").start(); } }
  static class HaltsByReference { IntConsumer run() { return Runtime.getRuntime()::halt; } }
  static class ExitsByStaticReference { IntConsumer run() { return System::exit; } }
  static class Harmless { long run() { return Runtime.getRuntime().freeMemory() + System.currentTimeMillis(); } }

  static byte[] bytes(Class<?> c) throws IOException {
    try (InputStream in = c.getClassLoader().getResourceAsStream(c.getName().replace('.', '/') + ".class")) {
      return in.readAllBytes();
    }
  }

  private static void refused(Class<?> c, String call) throws Exception {
    List<String> found = DEFAULT.violations(bytes(c));
    assertEquals(List.of(c.getName() + " calls " + call), found);
  }

  @Test
  void each_default_forbidden_call_is_found_and_named_with_its_class() throws Exception {
    refused(Exits.class, "java.lang.System.exit");
    refused(ExitsViaRuntime.class, "java.lang.Runtime.exit");
    refused(Halts.class, "java.lang.Runtime.halt");
    refused(Execs.class, "java.lang.Runtime.exec");
    refused(StartsProcess.class, "java.lang.ProcessBuilder.start");
  }

  @Test
  void method_references_to_forbidden_calls_are_found() throws Exception {
    refused(HaltsByReference.class, "java.lang.Runtime.halt");
    refused(ExitsByStaticReference.class, "java.lang.System.exit");
  }

  @Test
  void other_calls_on_the_same_classes_pass() throws Exception {
    assertEquals(List.of(), DEFAULT.violations(bytes(Harmless.class)));
  }

  @Test
  void the_policy_is_configurable() throws Exception {
    BytecodePolicy onlyExit = new BytecodePolicy(List.of("java.lang.System#exit"));
    assertEquals(List.of(), onlyExit.violations(bytes(Halts.class)));
    assertEquals(1, onlyExit.violations(bytes(Exits.class)).size());
    BytecodePolicy off = new BytecodePolicy(List.of());
    assertTrue(!off.enabled());
    assertThrows(IllegalArgumentException.class, () -> new BytecodePolicy(List.of("java.lang.System.exit")));
  }

  @Test
  void a_malformed_class_file_is_a_stage_error() {
    StageException e = assertThrows(StageException.class, () -> DEFAULT.violations(new byte[] {(byte) 0xCA, (byte) 0xFE, 1, 2}));
    assertTrue(e.getMessage().contains("malformed"), e.getMessage());
  }
}
