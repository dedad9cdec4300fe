package dev.ferry.settings;

import java.util.List;

/**
 * The {@code load} section.
 *
 * @param forbiddenCalls calls a service's bytecode may not make ({@code Class#method}); empty turns the check off
 */
public record LoadConfig(List<String> forbiddenCalls) {

  public static final LoadConfig DEFAULTS = new LoadConfig(List.of("java.lang.System#exit", "java.lang.Runtime#exit",
      "java.lang.Runtime#halt", "java.lang.Runtime#exec", "java.lang.ProcessBuilder#start"));

  public LoadConfig {
    forbiddenCalls = List.copyOf(forbiddenCalls);
  }
}
