/**
 * What the operating system enforces around tenant code, at run time (runner processes) and at
 * build time (the compiler process that runs annotation processors): a bubblewrap sandbox that
 * shows the process only the JDK, its own jars and a private {@code /tmp}; an unprivileged user;
 * and limits on memory, processes, open files and CPU from rlimits and cgroups. The control plane
 * turns a plain {@code java} command into the sandboxed one with {@link dev.ferry.sandbox.Sandbox};
 * a limit this host cannot enforce is named in {@link dev.ferry.sandbox.Sandbox#report()}.
 */
package dev.ferry.sandbox;
