package dev.ferry.common;

import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What the platform shares with every service, defined once: the families of libraries (their
 * Maven artifacts, their packages, one class from each jar) and Ferry's SDK. A service compiles
 * against their jars (build.SharedClasspath), never bundles their artifacts (build.SharedArtifacts),
 * and loads their classes and resources from the platform (runner.ServiceClassLoader).
 */
public final class Shared {

  /**
   * A family of shared libraries: the Maven group, which of its artifacts are shared, the package
   * prefix of their classes, and one class from each of their jars (to find the jar).
   */
  public record Family(String groupId, Predicate<String> artifacts, String packagePrefix, List<String> anchors) {
  }

  /** The Vert.x modules the platform carries. */
  private static final Set<String> VERTX = Set.of("vertx-core", "vertx-core-logging", "vertx-web", "vertx-web-client",
      "vertx-web-common", "vertx-auth-common", "vertx-bridge-common", "vertx-uri-template", "vertx-http-proxy");

  /** Ferry's SDK: its package, its path in a jar, and its coordinates as a service may declare it. */
  public static final String SDK_PACKAGE = "dev.ferry.sdk.";
  public static final String SDK_PATH = "dev/ferry/sdk/";
  public static final String SDK_GROUP = "dev.ferry";
  public static final String SDK_ARTIFACT = "ferry-sdk";

  public static final List<Family> FAMILIES = List.of(
      new Family("io.vertx", VERTX::contains, "io.vertx.", List.of(
          "io.vertx.core.Vertx", "io.vertx.core.logging.Logger", "io.vertx.core.internal.logging.LoggerFactory", "io.vertx.ext.web.Router",
          "io.vertx.ext.web.client.WebClient", "io.vertx.ext.web.codec.BodyCodec", "io.vertx.ext.auth.User",
          "io.vertx.ext.bridge.BridgeOptions", "io.vertx.uritemplate.UriTemplate", "io.vertx.httpproxy.HttpProxy")),
      new Family("io.netty", a -> true, "io.netty.", List.of(
          "io.netty.util.concurrent.Future", "io.netty.buffer.ByteBuf", "io.netty.channel.Channel", "io.netty.channel.unix.DomainSocketAddress",
          "io.netty.handler.codec.ByteToMessageDecoder", "io.netty.handler.codec.http.HttpHeaders",
          "io.netty.handler.codec.http2.Http2Headers", "io.netty.handler.ssl.SslContext",
          "io.netty.resolver.AddressResolver", "io.netty.handler.proxy.ProxyHandler",
          "io.netty.handler.codec.socksx.SocksMessage", "io.netty.resolver.dns.DnsNameResolver",
          "io.netty.handler.codec.dns.DnsRecord", "io.netty.handler.codec.compression.ZlibEncoder")),
      new Family("com.fasterxml.jackson.core", "jackson-core"::equals, "com.fasterxml.jackson.core.",
          List.of("com.fasterxml.jackson.core.JsonFactory")),
      // its jar is written from the platform's own classes, not found by an anchor
      new Family(SDK_GROUP, SDK_ARTIFACT::equals, SDK_PACKAGE, List.of()));

  /** Resources of shared libraries a service finds on the platform (service loaders, Vert.x metadata, web assets). */
  private static final List<String> RESOURCE_PREFIXES = List.of("META-INF/services/io.vertx.", "META-INF/services/io.netty.",
      "META-INF/vertx/", "webroot/vertx-web-");

  private Shared() {
  }

  /** Whether class {@code className} comes from the platform. */
  public static boolean isSharedClass(String className) {
    for (Family f : FAMILIES) {
      if (className.startsWith(f.packagePrefix())) return true;
    }
    return false;
  }

  /** Whether resource {@code path} may come from the platform. */
  public static boolean isSharedResource(String path) {
    if (isSharedClass(path.replace('/', '.'))) return true;
    for (String p : RESOURCE_PREFIXES) {
      if (path.startsWith(p)) return true;
    }
    return false;
  }

  /** Whether a service's dependency on {@code groupId:artifactId} is the platform's to provide. */
  public static boolean isSharedArtifact(String groupId, String artifactId) {
    for (Family f : FAMILIES) {
      if (f.groupId().equals(groupId) && f.artifacts().test(artifactId)) return true;
    }
    return false;
  }

  /** One class from each shared library's jar. */
  public static List<String> anchors() {
    return FAMILIES.stream().flatMap(f -> f.anchors().stream()).toList();
  }
}
