package dev.ferry.run;

import dev.ferry.sandbox.Limits;

import java.nio.file.Path;

/**
 * A runner process just started: {@code process} is what the platform launched (bubblewrap, or
 * the JVM itself); {@code jvm} is the runner's JVM once found (its pid, its socket's path).
 */
final class Launched {
  final String id;
  final Process process;
  final Path dir;
  final String secret;
  final Limits limits;
  Path socket;
  ProcessHandle jvm;

  Launched(String id, Process process, Path dir, String secret, Limits limits) {
    this.id = id;
    this.process = process;
    this.dir = dir;
    this.secret = secret;
    this.limits = limits;
  }
}
