package dev.ferry;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The platform's logging, set up in code: the level FERRY_LOG_LEVEL names, libraries kept quiet, one stderr appender. */
class LogSetupTest {

  @Test
  void the_root_level_is_ferry_log_level_and_a_configuration_file_given_still_wins() {
    String was = System.getProperty("FERRY_LOG_LEVEL");
    try {
      System.setProperty("FERRY_LOG_LEVEL", "WARN");
      LoggerContext context = new LoggerContext();
      assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, new LogSetup().configure(context));
      ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      assertEquals(Level.WARN, root.getLevel());
      assertNotNull(root.getAppender("STDERR"));
      assertEquals(Level.WARN, context.getLogger("io.netty").getLevel());
      assertEquals(Level.ERROR, context.getLogger("io.micrometer.core.instrument.MeterRegistry").getLevel());

      System.clearProperty("FERRY_LOG_LEVEL");
      LoggerContext plain = new LoggerContext();
      new LogSetup().configure(plain);
      Level expected = System.getenv("FERRY_LOG_LEVEL") == null ? Level.INFO : Level.toLevel(System.getenv("FERRY_LOG_LEVEL"), Level.INFO);
      assertEquals(expected, plain.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel());

      System.setProperty("logback.configurationFile", "elsewhere.xml");
      try {
        assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, new LogSetup().configure(new LoggerContext()));
      } finally {
        System.clearProperty("logback.configurationFile");
      }
    } finally {
      if (was == null) System.clearProperty("FERRY_LOG_LEVEL");
      else System.setProperty("FERRY_LOG_LEVEL", was);
    }
  }
}
