/**
 * ③ Load: takes a {@code Built} deployment and returns it {@code Loaded} (a fresh
 * {@link dev.ferry.load.ServiceClassLoader} and the entry verticle class) or in {@code Error}.
 *
 * <pre>
 * artifact.jar ─► ServiceClassLoader (shared packages parent-first, the rest child-first, Ferry hidden) ─► EntryFinder ─► verticle class
 * </pre>
 */
package dev.ferry.load;
