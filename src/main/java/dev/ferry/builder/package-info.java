/**
 * ② Build: takes a {@code Queued} deployment (an uploaded tar.gz) and returns it {@code Built}
 * (a packed artifact jar) or in {@code Error}.
 *
 * <pre>
 * archive ─► SafeExtractor ─► pom.xml ─► DependencyResolver (Maven model + Resolver, cached by pom hash) ─► bundled jars
 *                           src/main/java ─► ServiceCompiler (javac, in-process, options from the pom) ─► classes + resources ─► Packer ─► artifact.jar
 * </pre>
 *
 * Everything here blocks and runs on the builder's worker pool, never on an event loop.
 */
package dev.ferry.builder;
