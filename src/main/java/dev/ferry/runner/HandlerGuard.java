package dev.ferry.runner;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.nio.charset.StandardCharsets;

/**
 * Rewrites a service class's calls {@code HttpServer.requestHandler(handler)} into
 * {@code dev.ferry.sdk.Guarded.requestHandler(server, handler)}, so a plain core handler that
 * throws answers 500 instead of leaving its request hanging. The stack effect is the same (a
 * server and a handler in, the server out), so nothing else in the method changes.
 */
final class HandlerGuard {

  private static final String SERVER = "io/vertx/core/http/HttpServer";
  private static final String METHOD = "requestHandler";
  private static final String DESCRIPTOR = "(Lio/vertx/core/Handler;)Lio/vertx/core/http/HttpServer;";
  private static final String GUARDED = "dev/ferry/sdk/Guarded";
  private static final String GUARDED_DESCRIPTOR = "(Lio/vertx/core/http/HttpServer;Lio/vertx/core/Handler;)Lio/vertx/core/http/HttpServer;";
  private static final byte[] MARKER = METHOD.getBytes(StandardCharsets.US_ASCII);

  private HandlerGuard() {
  }

  /** The rewritten class, or null when it makes no such call (most classes; checked cheaply first). */
  static byte[] rewrite(byte[] classFile) {
    if (!contains(classFile, MARKER)) return null;
    ClassReader reader = new ClassReader(classFile);
    ClassWriter writer = new ClassWriter(reader, 0);
    boolean[] changed = {false};
    reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
        return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
          @Override
          public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean itf) {
            if (opcode == Opcodes.INVOKEINTERFACE && SERVER.equals(owner) && METHOD.equals(method) && DESCRIPTOR.equals(desc)) {
              changed[0] = true;
              super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARDED, METHOD, GUARDED_DESCRIPTOR, false);
            } else {
              super.visitMethodInsn(opcode, owner, method, desc, itf);
            }
          }
        };
      }
    }, 0);
    return changed[0] ? writer.toByteArray() : null;
  }

  private static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) continue outer;
      }
      return true;
    }
    return false;
  }
}
