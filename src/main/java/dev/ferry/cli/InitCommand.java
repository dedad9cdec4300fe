package dev.ferry.cli;

import dev.ferry.deployment.Deployment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ferry init NAME}: a new service that Ferry deploys and plain Maven builds. */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = "Create directory NAME with a Vert.x service: pom.xml (plain Maven builds it too), a VerticleBase, .gitignore.")
final class InitCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "The new directory; its last segment is the service name (a DNS label)")
  Path dir;
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    String name = dir.toAbsolutePath().normalize().getFileName().toString();
    if (!Deployment.SERVICE_NAME.matcher(name).matches()) {
      spec.commandLine().getErr().println("ferry init: '" + name + "' is not a service name: use 1-63 of a-z, 0-9 and '-'");
      return 1;
    }
    if (Files.exists(dir)) {
      spec.commandLine().getErr().println("ferry init: " + dir.toAbsolutePath() + " already exists");
      return 1;
    }
    String pkg = "app." + name.replace('-', '_');
    Path src = dir.resolve("src/main/java/" + pkg.replace('.', '/'));
    Files.createDirectories(src);
    Files.writeString(dir.resolve("pom.xml"), POM.replace("@NAME@", name).replace("@MAIN@", pkg + ".MainVerticle")
        .replace("@SDK@", SdkCommand.VERSION));
    Files.writeString(src.resolve("MainVerticle.java"), VERTICLE.replace("@PACKAGE@", pkg).replace("@NAME@", name));
    Files.writeString(dir.resolve(".gitignore"), "target/\n*.class\n.idea/\n");
    spec.commandLine().getOut().printf("Created %s: deploy it with  ferry deploy %s%n", dir.toAbsolutePath(), dir);
    spec.commandLine().getOut().println("Plain Maven builds and IDEs need Ferry's SDK (provided scope) once per machine: ferry sdk install");
    return 0;
  }

  private static final String POM = """
      <?xml version="1.0" encoding="UTF-8"?>
      <project xmlns="http://maven.apache.org/POM/4.0.0"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
        <modelVersion>4.0.0</modelVersion>
        <groupId>app</groupId>
        <artifactId>@NAME@</artifactId>
        <version>1.0.0-SNAPSHOT</version>

        <properties>
          <maven.compiler.release>17</maven.compiler.release>
          <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
          <!-- the verticle Ferry deploys -->
          <main.verticle>@MAIN@</main.verticle>
        </properties>

        <dependencies>
          <dependency>
            <groupId>io.vertx</groupId>
            <artifactId>vertx-core</artifactId>
            <version>5.0.7</version>
          </dependency>
          <!-- @Postgres, @Secret: the platform provides it; for local builds, once: ferry sdk install -->
          <dependency>
            <groupId>dev.ferry</groupId>
            <artifactId>ferry-sdk</artifactId>
            <version>@SDK@</version>
            <scope>provided</scope>
          </dependency>
        </dependencies>

        <build>
          <plugins>
            <plugin>
              <groupId>org.apache.maven.plugins</groupId>
              <artifactId>maven-compiler-plugin</artifactId>
              <version>3.13.0</version>
              <configuration><release>17</release></configuration>
            </plugin>
          </plugins>
        </build>
      </project>
      """;

  private static final String VERTICLE = """
      package @PACKAGE@;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;

      /** The @NAME@ service. On Ferry it listens where config() says; elsewhere on port 8080. */
      public class MainVerticle extends VerticleBase {

        @Override
        public Future<?> start() {
          return vertx.createHttpServer()
              .requestHandler(req -> req.response()
                  .putHeader("content-type", "text/plain")
                  .end("Hello from @NAME@\\n"))
              .listen(config().getInteger("http.port", 8080), config().getString("http.host", "0.0.0.0"));
        }
      }
      """;
}
