/**
 * ⑥ SDK: the small set of Ferry classes service code may use. Nothing here is required; a plain
 * Vert.x verticle deploys unchanged. Shared with services parent-first.
 */
package dev.ferry.sdk;
