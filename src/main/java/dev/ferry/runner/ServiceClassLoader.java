package dev.ferry.runner;

import dev.ferry.common.Shared;
import java.io.IOException;
import java.io.InputStream;
import java.security.CodeSigner;
import java.security.CodeSource;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * One service's classes. The packages the platform shares ({@link Shared}: Vert.x, Netty, Jackson
 * core, Ferry's SDK) come from the platform, parent-first, so the service and the platform speak the same
 * types; a class of those packages the platform lacks (a Vert.x module it does not carry) is the
 * service's own. Everything else is child-first from the service's own jars, then the JDK. Ferry's
 * internals and the platform's other libraries are not visible at all.
 */
public final class ServiceClassLoader extends URLClassLoader {

  static {
    ClassLoader.registerAsParallelCapable();
  }

  private final ClassLoader platform;
  private final String service;
  private final String deployment;

  public ServiceClassLoader(String service, String deployment, List<Path> jars, ClassLoader platform) {
    super("ferry-service-" + service, urls(jars), ClassLoader.getPlatformClassLoader());
    this.platform = platform;
    this.service = service;
    this.deployment = deployment;
  }

  public String service() {
    return service;
  }

  /** The deployment whose classes this loader holds: what the runner attributes output to. */
  public String deployment() {
    return deployment;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (Shared.isSharedClass(name)) {
      try {
        return platform.loadClass(name);
      } catch (ClassNotFoundException notOnPlatform) {
        // a module of a shared family the platform does not carry (a Vert.x template engine): the service's own
      }
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        try {
          // the JDK first: a service cannot replace java.*
          c = getParent().loadClass(name);
        } catch (ClassNotFoundException notJdk) {
          if (name.startsWith("dev.ferry.")) {
            throw new ClassNotFoundException(name + " is internal to the Ferry platform and not visible to services");
          }
          c = findClass(name);
        }
      }
      if (resolve) resolveClass(c);
      return c;
    }
  }

  /** Defines the class from the service's jars, with its request handlers guarded (see {@link HandlerGuard}). */
  @Override
  protected Class<?> findClass(String name) throws ClassNotFoundException {
    URL url = findResource(name.replace('.', '/') + ".class");
    if (url == null) throw new ClassNotFoundException(name);
    byte[] guarded;
    // through getResourceAsStream, so the jar it opens is closed with this loader
    try (InputStream in = getResourceAsStream(name.replace('.', '/') + ".class")) {
      guarded = HandlerGuard.rewrite(in.readAllBytes());
    } catch (IOException | RuntimeException e) {
      throw new ClassNotFoundException("Cannot read " + name + " from " + url, e);
    }
    if (guarded == null) return super.findClass(name);
    int dot = name.lastIndexOf('.');
    if (dot > 0 && getDefinedPackage(name.substring(0, dot)) == null) {
      try {
        definePackage(name.substring(0, dot), null, null, null, null, null, null, null);
      } catch (IllegalArgumentException definedMeanwhile) {
        // another thread defined it
      }
    }
    return defineClass(name, guarded, 0, guarded.length, new CodeSource(codeBase(url), (CodeSigner[]) null));
  }

  /** The jar a class URL ({@code jar:file:/x.jar!/a/B.class}) comes from. */
  private static URL codeBase(URL classUrl) {
    try {
      String s = classUrl.toString();
      return s.startsWith("jar:") ? new URL(s.substring(4, s.indexOf("!/"))) : classUrl;
    } catch (java.net.MalformedURLException e) {
      return classUrl;
    }
  }

  @Override
  public URL getResource(String name) {
    URL u = findResource(name);
    if (u == null) u = getParent().getResource(name);
    if (u == null && Shared.isSharedResource(name)) u = platform.getResource(name);
    return u;
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    List<URL> all = new ArrayList<>(Collections.list(findResources(name)));
    all.addAll(Collections.list(getParent().getResources(name)));
    if (Shared.isSharedResource(name)) all.addAll(Collections.list(platform.getResources(name)));
    return Collections.enumeration(all);
  }

  private static URL[] urls(List<Path> jars) {
    URL[] urls = new URL[jars.size()];
    for (int i = 0; i < urls.length; i++) {
      try {
        urls[i] = jars.get(i).toUri().toURL();
      } catch (java.net.MalformedURLException e) {
        throw new IllegalArgumentException("Bad jar path " + jars.get(i), e);
      }
    }
    return urls;
  }

  @Override
  public String toString() {
    return getName();
  }
}
