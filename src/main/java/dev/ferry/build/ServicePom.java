package dev.ferry.build;

import dev.ferry.deployment.StageException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What Ferry reads from a service's {@code pom.xml}: its {@code <properties>} (for
 * {@code main.verticle}). Parsed with DTDs and external entities off.
 */
public record ServicePom(Map<String, String> properties) {

  public ServicePom {
    properties = Map.copyOf(properties);
  }

  /** The pom in {@code dir}, or an empty one if there is none. */
  public static ServicePom read(Path dir) throws StageException {
    Path file = dir.resolve("pom.xml");
    if (!Files.isRegularFile(file)) return new ServicePom(Map.of());
    Document doc;
    try {
      doc = parser().parse(file.toFile());
    } catch (SAXException e) {
      throw new StageException("pom.xml is not well-formed XML: " + e.getMessage());
    } catch (IOException | ParserConfigurationException e) {
      throw new StageException("Cannot read pom.xml: " + e.getMessage(), e);
    }
    Element project = doc.getDocumentElement();
    if (!"project".equals(project.getLocalName() != null ? project.getLocalName() : project.getTagName())) {
      throw new StageException("pom.xml has no <project> root element");
    }
    Map<String, String> props = new LinkedHashMap<>();
    for (Element p : children(project, "properties")) {
      NodeList kids = p.getChildNodes();
      for (int i = 0; i < kids.getLength(); i++) {
        if (kids.item(i) instanceof Element e) props.put(name(e), e.getTextContent().trim());
      }
    }
    return new ServicePom(props);
  }

  /** The {@code main.verticle} property, if set. */
  public Optional<String> mainVerticle() {
    return Optional.ofNullable(properties.get("main.verticle")).filter(s -> !s.isBlank());
  }

  /** The {@code ferry.readiness.path} property: the path the runtime probes before sending traffic. */
  public Optional<String> readinessPath() {
    return Optional.ofNullable(properties.get("ferry.readiness.path")).filter(s -> !s.isBlank());
  }

  private static java.util.List<Element> children(Element parent, String name) {
    java.util.List<Element> out = new java.util.ArrayList<>();
    NodeList kids = parent.getChildNodes();
    for (int i = 0; i < kids.getLength(); i++) {
      if (kids.item(i) instanceof Element e && name.equals(name(e))) out.add(e);
    }
    return out;
  }

  private static String name(Node n) {
    return n.getLocalName() != null ? n.getLocalName() : n.getNodeName();
  }

  private static DocumentBuilder parser() throws ParserConfigurationException {
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
    return b;
  }
}
