package dev.ferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * nginx (Debian's package) as the peer the proxy is compared with, in front of the very same
 * services: a config of its own in a temp dir routing {@code Host: <service>.localhost} to each
 * service's port over kept-alive upstream connections, setting the same X-Forwarded-* headers as
 * Ferry's proxy, one worker per core, no access log (Ferry's proxy writes none either). Only the
 * proxy differs between the two rows.
 */
final class Nginx implements AutoCloseable {

  final int port;
  private final Path dir;
  private Process master;

  private Nginx(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  /** Whether an nginx binary is on the PATH. */
  static boolean available() {
    try {
      return new ProcessBuilder("nginx", "-v").redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** Starts nginx on a free loopback port, routing each service of {@code ports} (name → port). */
  static Nginx start(Path dir, Map<String, Integer> ports) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Nginx n = new Nginx(dir, ChildPlatform.freePort());
    Files.writeString(dir.resolve("nginx.conf"), n.config(ports));
    n.master = new ProcessBuilder("nginx", "-p", dir.toString(), "-e", dir.resolve("error.log").toString(), "-c",
        dir.resolve("nginx.conf").toString(), "-g", "daemon off;").redirectErrorStream(true)
        .redirectOutput(dir.resolve("nginx.out").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (n.workers().isEmpty() || !listening(n.port)) {
      if (!n.master.isAlive()) throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("nginx.out")));
      if (System.nanoTime() > deadline) throw new IllegalStateException("nginx did not start");
      Thread.sleep(20);
    }
    return n;
  }

  private static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  String config(Map<String, Integer> ports) {
    StringBuilder upstreams = new StringBuilder(), hosts = new StringBuilder();
    ports.forEach((service, p) -> {
      upstreams.append("  upstream ").append(service).append(" { server 127.0.0.1:").append(p).append("; keepalive 32; }\n");
      hosts.append("    ").append(service).append(".localhost ").append(service).append(";\n");
    });
    return """
        worker_processes auto;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        events { worker_connections 8192; }
        http {
          access_log off;
          client_body_temp_path %1$s/body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          map_hash_bucket_size 128;
          map_hash_max_size 8192;
        %2$s
          map $host $service {
            hostnames;
            default "";
        %3$s  }
          server {
            listen 127.0.0.1:%4$d reuseport;
            location / {
              if ($service = "") { return 404; }
              proxy_pass http://$service;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_set_header Host $http_host;
              proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
              proxy_set_header X-Forwarded-Host $http_host;
              proxy_set_header X-Forwarded-Proto $scheme;
            }
          }
        }
        """.formatted(dir, upstreams, hosts, port);
  }

  /** The worker processes (the master only supervises). */
  List<Long> workers() {
    return master.children().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
  }

  /** The command and config, for the report. */
  String describe() {
    return "nginx " + version() + ", worker_processes auto, upstream keepalive 32, access_log off, same X-Forwarded-* headers";
  }

  private static String version() {
    try {
      Process p = new ProcessBuilder("nginx", "-v").redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return v.replace("nginx version: nginx/", "");
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (master == null) return;
    List<ProcessHandle> workers = master.children().toList();
    master.destroy();
    if (!master.waitFor(10, TimeUnit.SECONDS)) master.destroyForcibly().waitFor();
    for (ProcessHandle w : workers) w.destroyForcibly();
  }
}
