package dev.ferry.cli;

import dev.ferry.deployment.Deployment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.lang.model.SourceVersion;

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
    Path last = dir.toAbsolutePath().normalize().getFileName();
    String name = last == null ? "" : last.toString();
    Optional<String> problem = Deployment.nameProblem(name);
    if (problem.isPresent()) {
      spec.commandLine().getErr().println("ferry init: " + problem.get() + ": the directory's name is the service's");
      return 1;
    }
    if (Files.exists(dir)) {
      spec.commandLine().getErr().println("ferry init: " + dir.toAbsolutePath() + " already exists");
      return 1;
    }
    String pkg = packageOf(name);
    Path src = dir.resolve("src/main/java/" + pkg.replace('.', '/'));
    Files.createDirectories(src);
    Files.writeString(dir.resolve("pom.xml"), POM.replace("@NAME@", name).replace("@MAIN@", pkg + ".MainVerticle")
        .replace("@SDK@", SdkCommand.VERSION).replace("@VERTX@", BuildVersions.VERTX)
        .replace("@COMPILER_PLUGIN@", BuildVersions.COMPILER_PLUGIN).replace("@EXEC_PLUGIN@", BuildVersions.EXEC_PLUGIN));
    Files.writeString(src.resolve("MainVerticle.java"), VERTICLE.replace("@PACKAGE@", pkg).replace("@NAME@", name));
    Files.writeString(dir.resolve("config.json"), "{\n  \"http.port\": 8080,\n  \"http.host\": \"127.0.0.1\"\n}\n");
    Files.writeString(dir.resolve(".gitignore"), "target/\n*.class\n.idea/\n");
    spec.commandLine().getOut().printf("Created %s%n  deploy it:        ferry deploy %s%n  develop it live:  ferry dev %s%n"
        + "  run it locally:   cd %s && mvn -q compile exec:java   (config from config.json)%n", dir.toAbsolutePath(), dir, dir, dir);
    spec.commandLine().getOut().println("Plain Maven builds and IDEs need Ferry's SDK (provided scope) once per machine: ferry sdk install");
    return 0;
  }

  /** The Java package of service {@code name}: {@code app.<name>}, '-' as '_', '_' before a digit or a keyword. */
  static String packageOf(String name) {
    String segment = name.replace('-', '_');
    return SourceVersion.isName("app." + segment) ? "app." + segment : "app._" + segment;
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
            <version>@VERTX@</version>
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
              <version>@COMPILER_PLUGIN@</version>
              <configuration><release>17</release></configuration>
            </plugin>
            <!-- mvn -q compile exec:java runs it locally, with config.json as its config() -->
            <plugin>
              <groupId>org.codehaus.mojo</groupId>
              <artifactId>exec-maven-plugin</artifactId>
              <version>@EXEC_PLUGIN@</version>
              <configuration><mainClass>@MAIN@</mainClass></configuration>
            </plugin>
          </plugins>
        </build>
      </project>
      """;

  private static final String VERTICLE = """
      package @PACKAGE@;

      import io.vertx.core.DeploymentOptions;
      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;
      import io.vertx.core.Vertx;
      import io.vertx.core.json.JsonObject;

      import java.nio.file.Files;
      import java.nio.file.Path;

      /** The @NAME@ service. On Ferry it listens where config() says; run locally, where config.json says. */
      public class MainVerticle extends VerticleBase {

        @Override
        public Future<?> start() {
          return vertx.createHttpServer()
              .requestHandler(req -> req.response()
                  .putHeader("content-type", "text/plain")
                  .end("Hello from @NAME@\\n"))
              .listen(config().getInteger("http.port", 8080), config().getString("http.host", "0.0.0.0"));
        }

        /** Runs the service locally (mvn -q compile exec:java) with the keys Ferry puts in config(), from config.json. */
        public static void main(String[] args) throws Exception {
          Path file = Path.of(args.length > 0 ? args[0] : "config.json");
          JsonObject config = Files.isRegularFile(file) ? new JsonObject(Files.readString(file)) : new JsonObject();
          Vertx vertx = Vertx.vertx();
          vertx.deployVerticle(new MainVerticle(), new DeploymentOptions().setConfig(config))
              .onSuccess(id -> System.out.println("@NAME@ is listening on port " + config.getInteger("http.port", 8080)))
              .onFailure(e -> {
                System.err.println("@NAME@ did not start: " + e);
                vertx.close();
              });
        }
      }
      """;
}
