package dev.ferry.runner;

import io.vertx.core.Deployable;
import io.vertx.core.Verticle;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Finds a service's entry verticle: the class its pom names in {@code main.verticle}, or else the
 * one concrete verticle class in its jar. None or several is an error naming the candidates.
 */
final class EntryFinder {

  /** The service cannot be loaded, for a reason its author can act on. */
  static final class LoadFailure extends Exception {
    LoadFailure(String message) {
      super(message, null, false, false);
    }

    LoadFailure(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  private EntryFinder() {
  }

  static String find(ServiceClassLoader loader, Path jar, Optional<String> named) throws LoadFailure {
    if (named.isPresent()) {
      String name = named.get();
      Class<?> c;
      try {
        c = Class.forName(name, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        throw new LoadFailure("main.verticle " + name + " is not a class of the service");
      }
      if (!isVerticle(c)) {
        throw new LoadFailure("main.verticle " + name + " is not a verticle (extend VerticleBase or AbstractVerticle, or implement Deployable)");
      }
      return name;
    }
    List<String> candidates = new ArrayList<>();
    try (JarFile jf = new JarFile(jar.toFile())) {
      for (JarEntry e : java.util.Collections.list(jf.entries())) {
        String n = e.getName();
        if (!n.endsWith(".class") || n.contains("-") || n.startsWith("META-INF/")) continue;
        String cn = n.substring(0, n.length() - 6).replace('/', '.');
        try {
          if (isVerticle(Class.forName(cn, false, loader))) candidates.add(cn);
        } catch (ClassNotFoundException | LinkageError ignored) {
          // not loadable on its own: cannot be the entry
        }
      }
    } catch (IOException e) {
      throw new LoadFailure("Cannot read artifact " + jar + ": " + e.getMessage(), e);
    }
    if (candidates.isEmpty()) {
      throw new LoadFailure("No verticle found: the service needs one concrete class extending VerticleBase or "
          + "AbstractVerticle (or implementing Deployable), or <main.verticle> in pom.xml");
    }
    if (candidates.size() > 1) {
      candidates.sort(null);
      throw new LoadFailure("Several verticles found: " + String.join(", ", candidates)
          + "; name the entry with <main.verticle> in pom.xml's <properties>");
    }
    return candidates.get(0);
  }

  private static boolean isVerticle(Class<?> c) {
    int m = c.getModifiers();
    return (Deployable.class.isAssignableFrom(c) || Verticle.class.isAssignableFrom(c))
        && !c.isInterface() && !Modifier.isAbstract(m) && Modifier.isPublic(m)
        && (c.getEnclosingClass() == null || Modifier.isStatic(m));
  }
}
