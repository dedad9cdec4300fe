/**
 * ② Build: takes a {@code Queued} deployment (an uploaded tar.gz) and returns it {@code Built}
 * (a packed artifact jar) or in {@code Error}.
 *
 * <pre>
 * archive ─► SafeExtractor ─► src/main/java ─► ServiceCompiler (javac, in-process) ─► classes + resources ─► Packer ─► artifact.jar
 * </pre>
 *
 * Everything here blocks and runs on the builder's worker pool, never on an event loop.
 */
package dev.ferry.build;
