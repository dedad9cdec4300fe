package dev.ferry.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The versions ferry init writes are Ferry's build's (pom.xml's properties), not literals of the CLI. */
class InitVersionsTest {

  @Test
  void init_writes_the_versions_of_ferrys_own_build(@TempDir Path tmp) throws Exception {
    String ours = Files.readString(Path.of("pom.xml"));
    Path dir = tmp.resolve("versions");
    int code = FerryCommand.commandLine(Map.of()).setOut(new PrintWriter(new StringWriter(), true))
        .setErr(new PrintWriter(new StringWriter(), true)).execute("init", dir.toString());
    assertEquals(0, code);
    String pom = Files.readString(dir.resolve("pom.xml"));
    assertTrue(pom.contains("<artifactId>vertx-core</artifactId>\n      <version>" + property(ours, "vertx.version") + "</version>"), pom);
    assertTrue(pom.contains("<artifactId>maven-compiler-plugin</artifactId>\n        <version>" + property(ours, "compiler-plugin.version") + "</version>"), pom);
    assertTrue(pom.contains("<artifactId>exec-maven-plugin</artifactId>\n        <version>" + property(ours, "exec-plugin.version") + "</version>"), pom);
    assertTrue(SdkCommand.pom().contains("<version>" + property(ours, "vertx.version") + "</version>"));
  }

  private static String property(String pom, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertTrue(m.find(), name);
    return m.group(1);
  }
}
