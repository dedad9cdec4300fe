package dev.ferry;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.INTERFACES;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The shape of the tree (docs/ARCHITECTURE.md): which package may use which, and how large a file may grow. */
@AnalyzeClasses(packages = "dev.ferry", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** The longest main source file, in lines: past it, a file does more than one job. */
  static final int MAX_LINES = 300;

  /** The one class that may touch Vert.x's internal packages. */
  static final String VERTX_ADAPTER = "dev.ferry.common.VertxInternals";

  @ArchTest
  static final ArchRule deployment_depends_on_no_other_ferry_package = noClasses()
      .that().resideInAPackage("dev.ferry.deployment..")
      .should().dependOnClassesThat(resideInAPackage("dev.ferry..").and(not(resideInAPackage("dev.ferry.deployment.."))))
      .because("every stage shares the deployment's types; they can use nothing of a stage");

  @ArchTest
  static final ArchRule sdk_depends_on_nothing_of_ferry = noClasses()
      .that().resideInAPackage("dev.ferry.sdk..")
      .should().dependOnClassesThat(resideInAPackage("dev.ferry..").and(not(resideInAPackage("dev.ferry.sdk.."))))
      .because("services compile against the SDK alone");

  @ArchTest
  static final ArchRule common_depends_on_nothing_of_ferry = noClasses()
      .that().resideInAPackage("dev.ferry.common..")
      .should().dependOnClassesThat(resideInAPackage("dev.ferry..").and(not(resideInAPackage("dev.ferry.common.."))))
      .because("the runner process carries it alone, without the platform");

  @ArchTest
  static final ArchRule runner_depends_on_its_jar_alone = noClasses()
      .that().resideInAPackage("dev.ferry.runner..")
      .should().dependOnClassesThat(resideInAPackage("dev.ferry..")
          .and(not(resideInAnyPackage("dev.ferry.runner..", "dev.ferry.common..", "dev.ferry.sdk.."))))
      .because("the runner's jar holds the runner, common and SDK packages and nothing else of the platform");

  @ArchTest
  static final ArchRule api_reaches_build_and_run_by_messages = noClasses()
      .that().resideInAPackage("dev.ferry.api..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.ferry.builder..", "dev.ferry.run..")
      .because("the API talks to the stages over the event bus (deployment.Addresses)");

  @ArchTest
  static final ArchRule proxy_is_reached_through_an_interface = noClasses()
      .that().resideOutsideOfPackage("dev.ferry.proxy..")
      // the composition root makes the proxy and its routes
      .and().doNotHaveFullyQualifiedName("dev.ferry.Platform")
      .should().dependOnClassesThat(resideInAPackage("dev.ferry.proxy..").and(not(INTERFACES)).and(not(declaredInAnInterface())))
      .because("the run stage writes routes through proxy.Routes and knows nothing else of the proxy");

  @ArchTest
  static final ArchRule no_package_cycles = slices().matching("dev.ferry.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule vertx_internals_in_one_adapter = noClasses()
      .that().doNotHaveFullyQualifiedName(VERTX_ADAPTER)
      .should().dependOnClassesThat(resideInAnyPackage("io.vertx.core.impl..", "io.vertx.core.internal..", "io.vertx.core.net.impl.."))
      .because("Vert.x may change its internals in any release: one class to adapt");

  @ArchTest
  static void no_main_source_file_is_over_300_lines(JavaClasses ignored) throws IOException {
    Path root = Path.of("src/main/java");
    try (Stream<Path> files = Files.walk(root)) {
      List<String> over = files.filter(p -> p.toString().endsWith(".java") && lines(p) > MAX_LINES)
          .map(p -> root.relativize(p) + " (" + lines(p) + " lines)").sorted().toList();
      assertEquals(List.of(), over, "main source files over " + MAX_LINES + " lines: split them by job");
    }
  }

  private static long lines(Path p) {
    try (Stream<String> s = Files.lines(p)) {
      return s.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static DescribedPredicate<JavaClass> declaredInAnInterface() {
    return DescribedPredicate.describe("declared in an interface",
        c -> c.getEnclosingClass().map(JavaClass::isInterface).orElse(false));
  }
}
