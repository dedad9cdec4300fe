/**
 * Code both the platform and the runner process use (the runner's jar carries this package):
 * what the platform shares with services, and the adapter to Vert.x's internals. It depends on
 * nothing else of Ferry.
 */
package dev.ferry.common;
