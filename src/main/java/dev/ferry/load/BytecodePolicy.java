package dev.ferry.load;

import dev.ferry.deployment.StageException;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Refuses a service whose classes call a forbidden method: by default those that end the
 * platform's JVM ({@code System.exit}, {@code Runtime.exit}, {@code Runtime.halt}) or start
 * processes ({@code Runtime.exec}, {@code ProcessBuilder.start}). Calls are found in the bytecode
 * of every class in the service's jars (with ASM): direct invocations and method references.
 * Reflection and method handles looked up by name are not seen: this stops footguns, not a
 * determined attacker (see docs/SECURITY.md).
 */
public final class BytecodePolicy {

  private final Set<String> forbidden = new LinkedHashSet<>();

  /** {@code forbiddenCalls} as {@code fully.qualified.Class#method}; empty allows everything. */
  public BytecodePolicy(Collection<String> forbiddenCalls) {
    for (String call : forbiddenCalls) {
      int hash = call.indexOf('#');
      if (hash <= 0 || hash == call.length() - 1) {
        throw new IllegalArgumentException("Forbidden call is not Class#method: " + call);
      }
      forbidden.add(call.substring(0, hash).replace('.', '/') + "#" + call.substring(hash + 1));
    }
  }

  /** Whether this policy checks anything. */
  public boolean enabled() {
    return !forbidden.isEmpty();
  }

  /** Checks every class in {@code jars}; the first violation is a {@link StageException} naming the class and the call. */
  public void check(List<Path> jars) throws StageException {
    if (!enabled()) return;
    for (Path jar : jars) {
      try (JarFile jf = new JarFile(jar.toFile())) {
        for (JarEntry e : java.util.Collections.list(jf.entries())) {
          if (e.isDirectory() || !e.getName().endsWith(".class")) continue;
          try (InputStream in = jf.getInputStream(e)) {
            List<String> found = violations(in.readAllBytes());
            if (!found.isEmpty()) {
              throw new StageException(found.get(0) + ": forbidden by the platform's bytecode policy (load.forbiddenCalls)");
            }
          }
        }
      } catch (IOException e) {
        throw new StageException("Cannot read " + jar.getFileName() + " to check its bytecode: " + e.getMessage(), e);
      }
    }
  }

  /** What one class file calls that is forbidden, as {@code "pkg.Class calls owner.method"}. */
  List<String> violations(byte[] classFile) throws StageException {
    ClassReader reader;
    try {
      reader = new ClassReader(classFile);
    } catch (RuntimeException e) {
      throw new StageException("A class file of the service is malformed: " + e);
    }
    String className = reader.getClassName().replace('/', '.');
    List<String> found = new ArrayList<>();
    try {
      reader.accept(new ClassVisitor(Opcodes.ASM9) {
        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
          return new MethodVisitor(Opcodes.ASM9) {
            @Override
            public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean itf) {
              see(owner, method);
            }

            @Override
            public void visitInvokeDynamicInsn(String n, String desc, Handle bootstrap, Object... args) {
              for (Object a : args) {
                if (a instanceof Handle h) see(h.getOwner(), h.getName());
              }
            }

            @Override
            public void visitLdcInsn(Object value) {
              if (value instanceof Handle h) see(h.getOwner(), h.getName());
            }
          };
        }

        private void see(String owner, String method) {
          if (forbidden.contains(owner + "#" + method)) {
            String call = owner.replace('/', '.') + "." + method;
            if (!found.contains(className + " calls " + call)) found.add(className + " calls " + call);
          }
        }
      }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    } catch (RuntimeException e) {
      throw new StageException("The class " + className + " is malformed: " + e);
    }
    return found;
  }
}
