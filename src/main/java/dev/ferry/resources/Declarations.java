package dev.ferry.resources;

import dev.ferry.deployment.StageException;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;

/**
 * What a service's entry verticle declares with {@code @Postgres} and {@code @Secret}, read from its
 * class file with ASM: nothing is loaded or initialised. Names are checked here, so a bad one fails
 * the load with a message that says what a good one looks like.
 */
public record Declarations(Set<String> databases, Set<String> secrets) {

  /** A database's name within its service. */
  public static final Pattern DATABASE_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
  /** A secret's key: what an environment variable may be called. */
  public static final Pattern SECRET_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

  static final String POSTGRES = "Ldev/ferry/sdk/Postgres;";
  static final String POSTGRES_LIST = "Ldev/ferry/sdk/Postgres$List;";
  static final String SECRET = "Ldev/ferry/sdk/Secret;";
  static final String SECRET_LIST = "Ldev/ferry/sdk/Secret$List;";

  public Declarations {
    databases = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(databases));
    secrets = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(secrets));
  }

  public static final Declarations NONE = new Declarations(Set.of(), Set.of());

  public boolean isEmpty() {
    return databases.isEmpty() && secrets.isEmpty();
  }

  /** The declarations on {@code entryClass} in {@code jar}; none if the class is not in it (a library's). */
  public static Declarations read(Path jar, String entryClass) throws StageException {
    try (JarFile jf = new JarFile(jar.toFile())) {
      ZipEntry e = jf.getEntry(entryClass.replace('.', '/') + ".class");
      if (e == null) return NONE;
      try (InputStream in = jf.getInputStream(e)) {
        return read(in.readAllBytes(), entryClass);
      }
    } catch (IOException e) {
      throw new StageException("Cannot read " + entryClass + " from " + jar.getFileName() + ": " + e.getMessage(), e);
    }
  }

  static Declarations read(byte[] classFile, String entryClass) throws StageException {
    List<String> databases = new ArrayList<>();
    List<String> secrets = new ArrayList<>();
    new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public AnnotationVisitor visitAnnotation(String descriptor, boolean visible) {
        return switch (descriptor) {
          case POSTGRES -> valueOf(databases);
          case SECRET -> valueOf(secrets);
          case POSTGRES_LIST -> listOf(databases);
          case SECRET_LIST -> listOf(secrets);
          default -> null;
        };
      }
    }, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    String where = " on " + entryClass;
    Set<String> dbs = new LinkedHashSet<>();
    for (String d : databases) {
      if (!DATABASE_NAME.matcher(d).matches()) {
        throw new StageException("@Postgres(\"" + d + "\")" + where + ": a database name is 1-32 of a-z, 0-9, '_' and '-', "
            + "starting with a letter");
      }
      if (!dbs.add(d)) throw new StageException("@Postgres(\"" + d + "\") is declared twice" + where);
    }
    Set<String> keys = new LinkedHashSet<>();
    for (String s : secrets) {
      if (!SECRET_KEY.matcher(s).matches()) {
        throw new StageException("@Secret(\"" + s + "\")" + where + ": a secret key is a letter or '_', then letters, "
            + "digits and '_' (at most 128)");
      }
      if (!keys.add(s)) throw new StageException("@Secret(\"" + s + "\") is declared twice" + where);
    }
    return new Declarations(dbs, keys);
  }

  /** Collects the {@code value} of one annotation. */
  private static AnnotationVisitor valueOf(List<String> into) {
    return new AnnotationVisitor(Opcodes.ASM9) {
      @Override
      public void visit(String name, Object value) {
        if ("value".equals(name) && value instanceof String s) into.add(s);
      }
    };
  }

  /** Collects the {@code value} of each annotation in a container's array. */
  private static AnnotationVisitor listOf(List<String> into) {
    return new AnnotationVisitor(Opcodes.ASM9) {
      @Override
      public AnnotationVisitor visitArray(String name) {
        return new AnnotationVisitor(Opcodes.ASM9) {
          @Override
          public AnnotationVisitor visitAnnotation(String n, String descriptor) {
            return valueOf(into);
          }
        };
      }
    };
  }
}
