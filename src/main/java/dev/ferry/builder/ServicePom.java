package dev.ferry.builder;

import dev.ferry.deployment.StageException;
import org.apache.maven.model.Dependency;
import org.apache.maven.model.Model;
import org.apache.maven.model.Plugin;
import org.apache.maven.model.building.DefaultModelBuilderFactory;
import org.apache.maven.model.building.DefaultModelBuildingRequest;
import org.apache.maven.model.building.ModelBuilder;
import org.apache.maven.model.building.ModelBuildingException;
import org.apache.maven.model.building.ModelBuildingRequest;
import org.apache.maven.model.building.ModelProblem;
import org.apache.maven.model.resolution.ModelResolver;
import org.apache.maven.model.resolution.UnresolvableModelException;
import org.codehaus.plexus.util.xml.Xpp3Dom;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A service's {@code pom.xml} read as Maven reads it: the effective model, with its parent,
 * properties, {@code dependencyManagement} and imported BOMs applied. Answers what the build needs:
 * the entry verticle, the dependencies, and how {@code maven-compiler-plugin} is configured.
 */
final class ServicePom {

  private static final ModelBuilder MODEL_BUILDER = new DefaultModelBuilderFactory().newInstance();
  private static final String COMPILER_PLUGIN = "org.apache.maven.plugins:maven-compiler-plugin";

  private final Model model;
  private final Xpp3Dom compilerConfig;

  private ServicePom(Model model) {
    this.model = model;
    this.compilerConfig = compilerConfiguration(model);
  }

  /** Reads {@code file}; parents and imported BOMs come through {@code resolver}. */
  static ServicePom read(Path file, ModelResolver resolver) throws StageException {
    refuseUnsafeXml(file);
    ModelBuildingRequest request = new DefaultModelBuildingRequest()
        .setPomFile(file.toFile())
        .setModelResolver(resolver)
        .setValidationLevel(ModelBuildingRequest.VALIDATION_LEVEL_MINIMAL)
        .setProcessPlugins(false)
        .setTwoPhaseBuilding(false)
        .setLocationTracking(false)
        .setSystemProperties(System.getProperties());
    try {
      return new ServicePom(MODEL_BUILDER.build(request).getEffectiveModel());
    } catch (ModelBuildingException e) {
      throw new StageException(problems(e));
    }
  }

  /** {@code groupId:artifactId:version}. */
  String coordinates() {
    return model.getGroupId() + ":" + model.getArtifactId() + ":" + model.getVersion();
  }

  /** The {@code main.verticle} property, if set. */
  Optional<String> mainVerticle() {
    return property("main.verticle");
  }

  /** The {@code ferry.isolation}, {@code ferry.memoryMb} and {@code ferry.port} properties: how the service asks to be run. */
  dev.ferry.deployment.RunSettings runSettings() throws StageException {
    try {
      return dev.ferry.deployment.RunSettings.fromProperties(this::property);
    } catch (IllegalArgumentException e) {
      throw new StageException("pom.xml: " + e.getMessage());
    }
  }

  /** The {@code ferry.readiness.path} property: the path the runtime probes before sending traffic. */
  Optional<String> readinessPath() {
    return property("ferry.readiness.path");
  }

  /** Dependencies in the scopes a running service needs ({@code compile}, {@code runtime}, {@code provided}). */
  List<Dependency> dependencies() {
    return model.getDependencies().stream()
        .filter(d -> d.getScope() == null || List.of("compile", "runtime", "provided").contains(d.getScope()))
        .toList();
  }

  /** The repositories the pom and its parents declare (the super POM's Central among them), in Maven's order. */
  List<org.apache.maven.model.Repository> repositories() {
    return model.getRepositories();
  }

  List<Dependency> managedDependencies() {
    return model.getDependencyManagement() == null ? List.of() : model.getDependencyManagement().getDependencies();
  }

  /**
   * The Java release to compile for, as {@code maven-compiler-plugin} reads it: {@code release},
   * else {@code target}, else {@code source} (plugin configuration first, then the
   * {@code maven.compiler.*} property); {@code fallback} when none is set. Refuses a release above
   * the JDK the platform runs on.
   */
  int release(int fallback) throws StageException {
    for (String key : List.of("release", "target", "source")) {
      Optional<String> v = config(key).or(() -> property("maven.compiler." + key));
      if (v.isPresent()) return checkRelease(key, v.get().trim());
    }
    return fallback;
  }

  private static int checkRelease(String key, String value) throws StageException {
    int release;
    try {
      release = Integer.parseInt(value.startsWith("1.") ? value.substring(2) : value);
    } catch (NumberFormatException e) {
      throw new StageException("pom.xml: maven.compiler." + key + " is not a Java version: " + value);
    }
    int jdk = java.lang.Runtime.version().feature();
    if (release > jdk) {
      throw new StageException("pom.xml asks for Java " + release + " (maven.compiler." + key + ") but Ferry runs on JDK "
          + jdk + ": set it to " + jdk + " or lower");
    }
    return release;
  }

  /** Whether the pom asks javac to keep parameter names ({@code -parameters}). */
  boolean parameters() {
    return config("parameters").or(() -> property("maven.compiler.parameters")).map(Boolean::parseBoolean).orElse(false)
        || compilerArgs().contains("-parameters");
  }

  /** {@code annotationProcessorPaths}: each a dependency on the processor path. */
  List<Dependency> processorPaths() {
    List<Dependency> out = new ArrayList<>();
    Xpp3Dom paths = compilerConfig == null ? null : compilerConfig.getChild("annotationProcessorPaths");
    if (paths == null) return out;
    for (Xpp3Dom p : paths.getChildren()) {
      Dependency d = new Dependency();
      d.setGroupId(text(p, "groupId"));
      d.setArtifactId(text(p, "artifactId"));
      d.setVersion(text(p, "version"));
      d.setClassifier(text(p, "classifier"));
      d.setType(Optional.ofNullable(text(p, "type")).orElse("jar"));
      out.add(d);
    }
    return out;
  }

  /** {@code annotationProcessors}: the processor classes to run, when the pom names them. */
  List<String> processorNames() {
    Xpp3Dom names = compilerConfig == null ? null : compilerConfig.getChild("annotationProcessors");
    if (names == null) return List.of();
    List<String> out = new ArrayList<>();
    for (Xpp3Dom n : names.getChildren()) {
      if (n.getValue() != null && !n.getValue().isBlank()) out.add(n.getValue().trim());
    }
    return out;
  }

  /** Whether the pom turns annotation processing off ({@code <proc>none</proc>} or {@code maven.compiler.proc}). */
  boolean procNone() {
    return config("proc").or(() -> property("maven.compiler.proc")).map(v -> v.trim().equals("none")).orElse(false);
  }

  private List<String> compilerArgs() {
    Xpp3Dom args = compilerConfig == null ? null : compilerConfig.getChild("compilerArgs");
    List<String> out = new ArrayList<>();
    if (args != null) {
      for (Xpp3Dom a : args.getChildren()) out.add(a.getValue() == null ? "" : a.getValue().trim());
    }
    config("compilerArgument").ifPresent(out::add);
    return out;
  }

  private Optional<String> property(String name) {
    return Optional.ofNullable(model.getProperties().getProperty(name)).map(String::trim).filter(s -> !s.isEmpty());
  }

  private Optional<String> config(String name) {
    Xpp3Dom c = compilerConfig == null ? null : compilerConfig.getChild(name);
    return Optional.ofNullable(c).map(Xpp3Dom::getValue).map(String::trim).filter(s -> !s.isEmpty());
  }

  private static String text(Xpp3Dom parent, String child) {
    Xpp3Dom c = parent.getChild(child);
    return c == null || c.getValue() == null || c.getValue().isBlank() ? null : c.getValue().trim();
  }

  /** The compiler plugin's configuration from build plugins, else from pluginManagement. */
  private static Xpp3Dom compilerConfiguration(Model model) {
    if (model.getBuild() == null) return null;
    List<Plugin> candidates = new ArrayList<>(model.getBuild().getPlugins());
    if (model.getBuild().getPluginManagement() != null) candidates.addAll(model.getBuild().getPluginManagement().getPlugins());
    for (Plugin p : candidates) {
      if (COMPILER_PLUGIN.equals(p.getKey()) && p.getConfiguration() instanceof Xpp3Dom dom) return dom;
    }
    return null;
  }

  /** {@code pom.xml:line: message} per error the model builder found. */
  private static String problems(ModelBuildingException e) {
    StringBuilder sb = new StringBuilder("pom.xml cannot be read as a Maven model");
    for (ModelProblem p : e.getProblems()) {
      if (p.getSeverity() == ModelProblem.Severity.WARNING) continue;
      sb.append('\n');
      String source = p.getSource() == null || p.getSource().isEmpty() || p.getSource().endsWith("pom.xml") ? "pom.xml" : p.getSource();
      sb.append(source);
      if (p.getLineNumber() > 0) sb.append(':').append(p.getLineNumber());
      sb.append(": ").append(p.getException() instanceof UnresolvableModelException u ? unresolvable(p, u) : p.getMessage());
    }
    return sb.toString();
  }

  /** A parent or imported pom that could not be had: its coordinates, then why (Resolver's reasons, one a line). */
  private static String unresolvable(ModelProblem p, UnresolvableModelException u) {
    String what = p.getMessage().startsWith("Non-resolvable parent") ? "the parent pom "
        : p.getMessage().startsWith("Non-resolvable import") ? "the imported pom " : "the pom ";
    return what + u.getGroupId() + ":" + u.getArtifactId() + ":" + u.getVersion() + " cannot be resolved:\n" + u.getMessage();
  }

  /** A first pass with DTDs and external entities off, so Maven's reader never sees them. */
  private static void refuseUnsafeXml(Path file) throws StageException {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature("http://xml.org/sax/features/external-general-entities", false);
      f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      DocumentBuilder b = f.newDocumentBuilder();
      b.setErrorHandler(null);
      b.parse(file.toFile());
    } catch (SAXException e) {
      throw new StageException("pom.xml is not well-formed XML: " + e.getMessage());
    } catch (IOException | ParserConfigurationException e) {
      throw new StageException("Cannot read pom.xml: " + e.getMessage(), e);
    }
  }
}
