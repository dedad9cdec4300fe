package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Map;
import java.util.Set;

/** The {@code ferry} command: the user's front door. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
    description = "Ferry: upload a Java service's source, get it built, deployed and routed.",
    subcommands = {ServerCommand.class, DevCommand.class, InitCommand.class, DeployCommand.class, ListCommand.class,
        StatusCommand.class, LogsCommand.class, RollbackCommand.class, DeleteCommand.class, LoginCommand.class,
        LogoutCommand.class, SecretsCommand.class, ResourcesCommand.class, SdkCommand.class, CompletionCommand.class,
        TokenCommand.class})
public final class FerryCommand implements Runnable {

  /** An exit code that means: the command started something that keeps running (the server). */
  public static final int KEEP_RUNNING = -1;
  /** Commands that run a platform in this process, and log like one. */
  static final Set<String> PLATFORM_COMMANDS = Set.of("server", "dev");

  private final Map<String, String> env;

  public FerryCommand() {
    this(System.getenv());
  }

  /** {@code env} stands for the environment (FERRY_SERVER, FERRY_TOKEN, XDG_CONFIG_HOME...). */
  public FerryCommand(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** A command line for {@code ferry}; further subcommands may be added to it. */
  public static CommandLine commandLine(Map<String, String> env) {
    return new CommandLine(new FerryCommand(env)).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /**
   * The process's entry: runs {@code args} and returns the exit code. A client command keeps the
   * libraries it uses (Vert.x, Netty) from logging to the user's terminal: it prints its own
   * messages, and {@code FERRY_LOG_LEVEL} (say {@code DEBUG}) brings the libraries' logs back.
   * {@code ferry dev} logs the embedded platform's warnings only, unless {@code FERRY_LOG_LEVEL} says.
   */
  public static int main(String[] args) {
    Map<String, String> env = System.getenv();
    String command = commandOf(args);
    noNettyFlightEvents();
    if (!PLATFORM_COMMANDS.contains(command)) {
      if (env.get("FERRY_LOG_LEVEL") == null) quietLibraries();
    } else if ("dev".equals(command) && env.get("FERRY_LOG_LEVEL") == null) {
      // read by LogSetup when logback first configures itself
      System.setProperty("FERRY_LOG_LEVEL", "WARN");
    }
    if (args.length > 0 && args[0].equals("server")) {
      java.util.Optional<ServerCommand> server = ServerCommand.parse(java.util.Arrays.copyOfRange(args, 1, args.length));
      if (server.isPresent()) {
        try {
          return server.get().call();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return commandLine(env).execute(args);
  }

  /**
   * Netty 4.2's buffer allocator reports its chunks as JDK Flight Recorder events: the first
   * allocation (a proxied request's, right after a restart) would load and set up the recorder's
   * event machinery, 0.17 s on two cores. Off unless {@code -Dio.netty.jfr.enabled} says otherwise.
   */
  private static void noNettyFlightEvents() {
    if (System.getProperty(NETTY_JFR) == null) System.setProperty(NETTY_JFR, "false");
  }

  /** Netty's switch for its Flight Recorder events (runners are started with it off as well). */
  private static final String NETTY_JFR = "io.netty.jfr.enabled";

  /** The subcommand's name: the first argument that is not an option. */
  static String commandOf(String[] args) {
    for (String a : args) {
      if (!a.startsWith("-")) return a;
    }
    return "";
  }

  /**
   * Vert.x and Netty log through java.util.logging, which prints nothing; logback (the platform's
   * backend) is never started. Also a smaller start: no Netty DNS resolver (the JDK's, which reads
   * /etc/hosts like every other tool), no class-path file cache.
   */
  private static void quietLibraries() {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.JULLogDelegateFactory");
    System.setProperty("vertx.disableDnsResolver", "true");
    System.setProperty("vertx.disableFileCPResolving", "true");
    io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
    java.util.logging.LogManager.getLogManager().reset();
  }

  Map<String, String> env() {
    return env;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
