/**
 * ③ Load: takes a {@code Built} deployment and returns it {@code Loaded} (a runner holding the
 * service's own classloader, and the entry verticle class it found there) or in {@code Error}.
 *
 * <pre>
 * artifact.jar ─► BytecodePolicy (ASM, in the control plane: reads, runs nothing) ─► a runner (warm, or started)
 *              ─► runner: ServiceClassLoader (shared packages parent-first, the rest child-first, Ferry hidden) ─► entry verticle
 * </pre>
 */
package dev.ferry.load;
