package dev.ferry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting of the platform. Defaults are the {@code DEFAULT_*} constants (the same values
 * {@code config/ferry.json} spells out); a JSON file, {@code FERRY_*} environment variables and
 * command-line flags override them in that order.
 */
public final class Config {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_API_PORT = 8000;
  public static final int DEFAULT_PROXY_PORT = 8080;
  public static final long DEFAULT_PROXY_TIMEOUT_MS = 30_000;
  /** Proxy event loops; 0 means one per core. */
  public static final int DEFAULT_PROXY_INSTANCES = 0;
  public static final String DEFAULT_DOMAIN = "localhost";
  public static final String DEFAULT_DATA_DIR = "data";
  public static final long DEFAULT_UPLOAD_MAX_BYTES = 50L * 1024 * 1024;
  public static final long DEFAULT_EXTRACT_MAX_BYTES = 200L * 1024 * 1024;
  public static final int DEFAULT_EXTRACT_MAX_ENTRIES = 10_000;
  public static final int DEFAULT_EXTRACT_MAX_NAME_LENGTH = 1024;
  public static final int DEFAULT_BUILD_CONCURRENCY = 1;
  /** Deployments that may wait for or be in a build at once; past it an upload answers 503. */
  public static final int DEFAULT_BUILD_QUEUE_CAPACITY = 64;
  public static final long DEFAULT_START_TIMEOUT_MS = 10_000;
  public static final long DEFAULT_DRAIN_TIMEOUT_MS = 5_000;
  /**
   * How a service's verticle runs in its runner: {@code event-loop} (what Vert.x users expect; a
   * blocking handler stalls only its own runner) or {@code worker} (on worker threads of its Vert.x).
   */
  public static final String DEFAULT_THREADING = "event-loop";
  /** {@code process}: a runner JVM per service; {@code shared}: trusted services share one runner JVM, each on a Vert.x of its own. */
  public static final String DEFAULT_ISOLATION = "process";
  /** Idle runners started ahead, so a deploy, rollback or restart does not wait for a JVM to start. */
  public static final int DEFAULT_WARM_RUNNERS = 2;
  /** The heap of a service's runner ({@code -Xmx}); a service's pom may ask for another ({@code ferry.memoryMb}). */
  public static final int DEFAULT_MEMORY_MB = 256;
  /** The heap of the shared runner, which holds every service in {@code shared} isolation. */
  public static final int DEFAULT_SHARED_MEMORY_MB = 1024;
  /** Ports services are given; outside Linux's default ephemeral range (32768-60999). */
  public static final String DEFAULT_PORT_RANGE = "20000-29999";
  /** How long a runner keeps serving without its control plane (waiting to be re-adopted) before it exits. */
  public static final long DEFAULT_ORPHAN_GRACE_MS = 60_000;
  /** Event loops of each service's Vert.x in a runner of its own, or of a shared runner, whose services all run on them; 0 means one per core. */
  public static final int DEFAULT_EVENT_LOOPS = 0;
  /**
   * A service that got no request for this long is put to sleep: its runner stopped (its verticle
   * undeployed in a shared runner); the next request wakes it and is answered. 0: never.
   */
  public static final long DEFAULT_SLEEP_AFTER_MS = 15 * 60_000;
  /** Whether runners start from a class-data-sharing archive made on the first start (faster JVM start). */
  public static final boolean DEFAULT_CDS = true;
  /**
   * Unset: settings.xml's {@code <localRepository>}, else {@code maven} in the data dir. A relative path is
   * resolved against the data dir; an absolute one (say ~/.m2/repository) is kept.
   */
  public static final String DEFAULT_MAVEN_LOCAL_REPOSITORY = null;
  /** {@code central} stands for Maven Central; other entries are http(s) or file URLs. */
  public static final List<String> DEFAULT_MAVEN_REMOTE_REPOSITORIES = List.of("central");
  /** {@code true} resolves from the local repository alone; {@code false} leaves it to settings.xml's {@code <offline>}. */
  public static final boolean DEFAULT_MAVEN_OFFLINE = false;
  /** The user settings.xml; unset: {@code ~/.m2/settings.xml}, as Maven reads it (with {@code $MAVEN_HOME/conf/settings.xml} under it). */
  public static final String DEFAULT_MAVEN_SETTINGS = null;
  /** No token configured: the platform generates one on its first start into {@code <data dir>/token}. */
  public static final String DEFAULT_TOKEN = null;
  /** Whether {@code /metrics} answers without the API token (Prometheus scrapers often cannot send one). */
  public static final boolean DEFAULT_METRICS_PUBLIC = true;
  public static final boolean DEFAULT_TCP_BRIDGE_ENABLED = false;
  public static final int DEFAULT_TCP_BRIDGE_PORT = 7000;
  public static final int DEFAULT_KEEP_ARTIFACTS = 5;
  /** Calls a service's bytecode may not make ({@code Class#method}); empty turns the check off. */
  public static final List<String> DEFAULT_FORBIDDEN_CALLS = dev.ferry.load.BytecodePolicy.DEFAULT_FORBIDDEN;
  /**
   * What confines tenant code (runners, and builds that run annotation processors): {@code bwrap}
   * (bubblewrap; the platform does not start without it) or {@code none} (no sandbox: only for code
   * you would run in your own process; reported at start-up and on {@code /api/v1/info}).
   */
  public static final String DEFAULT_SANDBOX = "bwrap";
  /** The size of a runner's private, writable {@code /tmp} (a tmpfs), and the largest file it may write. */
  public static final int DEFAULT_TMP_MB = 64;
  /** A runner's resident memory (a cgroup limit); 0: twice its heap plus its {@code /tmp} plus 128 MB. */
  public static final int DEFAULT_RSS_MB = 0;
  /** Processes and threads a runner may have at once (a {@code pids} cgroup, else {@code RLIMIT_NPROC}). */
  public static final int DEFAULT_MAX_PROCESSES = 1024;
  /** Files and sockets a runner may have open at once ({@code RLIMIT_NOFILE}). */
  public static final int DEFAULT_MAX_OPEN_FILES = 4096;
  /** A runner's CPU weight when the CPU is busy (cgroup {@code cpu.shares}): at 1024 it weighs as one busy thread, however many it runs. */
  public static final int DEFAULT_CPU_SHARES = 1024;
  /** The heap of the compiler process that runs a build's annotation processors. */
  public static final int DEFAULT_BUILD_MEMORY_MB = 512;
  /** How long a build's compiler process (annotation processors) may run before it is killed and the build fails. */
  public static final long DEFAULT_BUILD_TIMEOUT_MS = 300_000;
  /** The size of that compiler process's {@code /tmp}, where it writes the classes. */
  public static final int DEFAULT_BUILD_TMP_MB = 256;
  /** A connection to the API or proxy must send a complete request head within this, or it is closed. */
  public static final long DEFAULT_HEADER_TIMEOUT_MS = 10_000;
  /** A connection with nothing in flight for this long is closed. */
  public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;
  /** Connections one client address may hold open to each of the API and the proxy; 0 for no cap. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 256;
  /** Addresses of reverse proxies in front of Ferry: their X-Forwarded-For is kept (appended to), and they are not capped. */
  public static final List<String> DEFAULT_TRUSTED_PROXIES = List.of();
  /** An upload whose body sends nothing for this long is cut, its partial file deleted. */
  public static final long DEFAULT_UPLOAD_STALL_TIMEOUT_MS = 30_000;
  /** No server configured: databases go to the platform's own, embedded PostgreSQL. */
  public static final String DEFAULT_POSTGRES_URL = null;
  public static final String DEFAULT_POSTGRES_USER = null;
  public static final String DEFAULT_POSTGRES_PASSWORD = null;
  /** The embedded PostgreSQL's port; 0: a free one, chosen on its first start and kept. */
  public static final int DEFAULT_POSTGRES_PORT = 0;
  /** No key configured: the platform generates one into {@code <data dir>/secrets.key}. */
  public static final String DEFAULT_SECRETS_KEY = null;

  private String host = DEFAULT_HOST;
  private int apiPort = DEFAULT_API_PORT;
  private int proxyPort = DEFAULT_PROXY_PORT;
  private long proxyTimeoutMs = DEFAULT_PROXY_TIMEOUT_MS;
  private int proxyInstances = DEFAULT_PROXY_INSTANCES;
  private String domain = DEFAULT_DOMAIN;
  private Path dataDir = Path.of(DEFAULT_DATA_DIR);
  private long uploadMaxBytes = DEFAULT_UPLOAD_MAX_BYTES;
  private long extractMaxBytes = DEFAULT_EXTRACT_MAX_BYTES;
  private int extractMaxEntries = DEFAULT_EXTRACT_MAX_ENTRIES;
  private int extractMaxNameLength = DEFAULT_EXTRACT_MAX_NAME_LENGTH;
  private int buildConcurrency = DEFAULT_BUILD_CONCURRENCY;
  private int buildQueueCapacity = DEFAULT_BUILD_QUEUE_CAPACITY;
  private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;
  private long drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS;
  private String threading = DEFAULT_THREADING;
  private String isolation = DEFAULT_ISOLATION;
  private int warmRunners = DEFAULT_WARM_RUNNERS;
  private int memoryMb = DEFAULT_MEMORY_MB;
  private int sharedMemoryMb = DEFAULT_SHARED_MEMORY_MB;
  private String portRange = DEFAULT_PORT_RANGE;
  private long orphanGraceMs = DEFAULT_ORPHAN_GRACE_MS;
  private int eventLoops = DEFAULT_EVENT_LOOPS;
  private long sleepAfterMs = DEFAULT_SLEEP_AFTER_MS;
  private boolean cds = DEFAULT_CDS;
  private List<String> jvmOptions = List.of();
  private Path cacheDir;
  private String mavenLocalRepository = DEFAULT_MAVEN_LOCAL_REPOSITORY;
  private List<String> mavenRemoteRepositories = DEFAULT_MAVEN_REMOTE_REPOSITORIES;
  private boolean mavenOffline = DEFAULT_MAVEN_OFFLINE;
  private String mavenSettings = DEFAULT_MAVEN_SETTINGS;
  private String token = DEFAULT_TOKEN;
  private boolean metricsPublic = DEFAULT_METRICS_PUBLIC;
  private boolean tcpBridgeEnabled = DEFAULT_TCP_BRIDGE_ENABLED;
  private int tcpBridgePort = DEFAULT_TCP_BRIDGE_PORT;
  private int keepArtifacts = DEFAULT_KEEP_ARTIFACTS;
  private List<String> forbiddenCalls = DEFAULT_FORBIDDEN_CALLS;
  private String postgresUrl = DEFAULT_POSTGRES_URL;
  private String postgresUser = DEFAULT_POSTGRES_USER;
  private String postgresPassword = DEFAULT_POSTGRES_PASSWORD;
  private int postgresPort = DEFAULT_POSTGRES_PORT;
  private String secretsKey = DEFAULT_SECRETS_KEY;
  private String sandbox = DEFAULT_SANDBOX;
  private int tmpMb = DEFAULT_TMP_MB;
  private int rssMb = DEFAULT_RSS_MB;
  private int maxProcesses = DEFAULT_MAX_PROCESSES;
  private int maxOpenFiles = DEFAULT_MAX_OPEN_FILES;
  private int cpuShares = DEFAULT_CPU_SHARES;
  private int buildMemoryMb = DEFAULT_BUILD_MEMORY_MB;
  private long buildTimeoutMs = DEFAULT_BUILD_TIMEOUT_MS;
  private int buildTmpMb = DEFAULT_BUILD_TMP_MB;
  private long headerTimeoutMs = DEFAULT_HEADER_TIMEOUT_MS;
  private long idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS;
  private int maxConnectionsPerClient = DEFAULT_MAX_CONNECTIONS_PER_CLIENT;
  private List<String> trustedProxies = DEFAULT_TRUSTED_PROXIES;
  private long uploadStallTimeoutMs = DEFAULT_UPLOAD_STALL_TIMEOUT_MS;

  public Config() {
  }

  /** Reads the nested layout of {@code config/ferry.json}; absent keys keep their defaults. */
  public Config(JsonObject json) {
    JsonObject api = section(json, "api"), proxy = section(json, "proxy"), upload = section(json, "upload"),
        extract = section(json, "extract"), build = section(json, "build"), run = section(json, "run"),
        maven = section(json, "maven"),
        tcpBridge = section(json, "tcpBridge"),
        artifacts = section(json, "artifacts"), load = section(json, "load"),
        resources = section(json, "resources"), postgres = section(resources, "postgres"), server = section(json, "server");
    setHost(json.getString("host", host));
    setApiPort(api.getInteger("port", apiPort));
    setMetricsPublic(api.getBoolean("metricsPublic", metricsPublic));
    setProxyPort(proxy.getInteger("port", proxyPort));
    setProxyTimeoutMs(proxy.getLong("timeoutMs", proxyTimeoutMs));
    setProxyInstances(proxy.getInteger("instances", proxyInstances));
    setDomain(json.getString("domain", domain));
    setDataDir(Path.of(json.getString("dataDir", dataDir.toString())));
    setUploadMaxBytes(upload.getLong("maxBytes", uploadMaxBytes));
    setUploadStallTimeoutMs(upload.getLong("stallTimeoutMs", uploadStallTimeoutMs));
    setHeaderTimeoutMs(server.getLong("headerTimeoutMs", headerTimeoutMs));
    setIdleTimeoutMs(server.getLong("idleTimeoutMs", idleTimeoutMs));
    setMaxConnectionsPerClient(server.getInteger("maxConnectionsPerClient", maxConnectionsPerClient));
    JsonArray trusted = server.getJsonArray("trustedProxies");
    if (trusted != null) setTrustedProxies(trusted.stream().map(String::valueOf).toList());
    setExtractMaxBytes(extract.getLong("maxBytes", extractMaxBytes));
    setExtractMaxEntries(extract.getInteger("maxEntries", extractMaxEntries));
    setExtractMaxNameLength(extract.getInteger("maxNameLength", extractMaxNameLength));
    setBuildConcurrency(build.getInteger("concurrency", buildConcurrency));
    setBuildQueueCapacity(build.getInteger("queueCapacity", buildQueueCapacity));
    setBuildMemoryMb(build.getInteger("memoryMb", buildMemoryMb));
    setBuildTimeoutMs(build.getLong("timeoutMs", buildTimeoutMs));
    setBuildTmpMb(build.getInteger("tmpMb", buildTmpMb));
    setStartTimeoutMs(run.getLong("startTimeoutMs", startTimeoutMs));
    setDrainTimeoutMs(run.getLong("drainTimeoutMs", drainTimeoutMs));
    setThreading(run.getString("threading", threading));
    setIsolation(run.getString("isolation", isolation));
    setWarmRunners(run.getInteger("warmRunners", warmRunners));
    setMemoryMb(run.getInteger("memoryMb", memoryMb));
    setSharedMemoryMb(run.getInteger("sharedMemoryMb", sharedMemoryMb));
    setPortRange(run.getString("portRange", portRange));
    setOrphanGraceMs(run.getLong("orphanGraceMs", orphanGraceMs));
    setEventLoops(run.getInteger("eventLoops", eventLoops));
    setSleepAfterMs(run.getLong("idleTimeoutMs", sleepAfterMs));
    setCds(run.getBoolean("cds", cds));
    setSandbox(run.getString("sandbox", sandbox));
    setTmpMb(run.getInteger("tmpMb", tmpMb));
    setRssMb(run.getInteger("rssMb", rssMb));
    setMaxProcesses(run.getInteger("maxProcesses", maxProcesses));
    setMaxOpenFiles(run.getInteger("maxOpenFiles", maxOpenFiles));
    setCpuShares(run.getInteger("cpuShares", cpuShares));
    JsonArray jvm = run.getJsonArray("jvmOptions");
    if (jvm != null) setJvmOptions(jvm.stream().map(String::valueOf).toList());
    if (run.getString("cacheDir") != null) setCacheDir(Path.of(run.getString("cacheDir")));
    setMavenLocalRepository(maven.getString("localRepository", mavenLocalRepository));
    JsonArray remotes = maven.getJsonArray("remoteRepositories");
    if (remotes != null) setMavenRemoteRepositories(remotes.stream().map(String::valueOf).toList());
    setMavenOffline(maven.getBoolean("offline", mavenOffline));
    setMavenSettings(maven.getString("settings", mavenSettings));
    setToken(json.getString("token", token));
    setTcpBridgeEnabled(tcpBridge.getBoolean("enabled", tcpBridgeEnabled));
    setTcpBridgePort(tcpBridge.getInteger("port", tcpBridgePort));
    setKeepArtifacts(artifacts.getInteger("keep", keepArtifacts));
    JsonArray forbidden = load.getJsonArray("forbiddenCalls");
    if (forbidden != null) setForbiddenCalls(forbidden.stream().map(String::valueOf).toList());
    setPostgresUrl(postgres.getString("url", postgresUrl));
    setPostgresUser(postgres.getString("user", postgresUser));
    setPostgresPassword(postgres.getString("password", postgresPassword));
    setPostgresPort(postgres.getInteger("port", postgresPort));
    setSecretsKey(resources.getString("secretsKey", secretsKey));
  }

  /** Defaults, then {@code file} if it exists, then {@code FERRY_*} variables from {@code env}. */
  public static Config load(Path file, Map<String, String> env) {
    Config config;
    if (file != null && Files.isRegularFile(file)) {
      try {
        config = new Config(new JsonObject(Files.readString(file)));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("Cannot read config " + file + ": " + e.getMessage(), e);
      }
    } else {
      config = new Config();
    }
    return config.applyEnv(env);
  }

  /** Applies the documented {@code FERRY_*} environment variables. */
  public Config applyEnv(Map<String, String> env) {
    String v;
    if ((v = env.get("FERRY_HOST")) != null) setHost(v);
    if ((v = env.get("FERRY_API_PORT")) != null) setApiPort(parseInt("FERRY_API_PORT", v));
    if ((v = env.get("FERRY_PROXY_PORT")) != null) setProxyPort(parseInt("FERRY_PROXY_PORT", v));
    if ((v = env.get("FERRY_DATA_DIR")) != null) setDataDir(Path.of(v));
    if ((v = env.get("FERRY_DOMAIN")) != null) setDomain(v);
    if ((v = env.get("FERRY_MAVEN_LOCAL_REPOSITORY")) != null) setMavenLocalRepository(v);
    if ((v = env.get("FERRY_MAVEN_REMOTE_REPOSITORIES")) != null) setMavenRemoteRepositories(List.of(v.split("\\s*,\\s*")));
    if ((v = env.get("FERRY_MAVEN_OFFLINE")) != null) setMavenOffline(Boolean.parseBoolean(v.trim()));
    if ((v = env.get("FERRY_MAVEN_SETTINGS")) != null) setMavenSettings(v);
    if ((v = env.get("FERRY_TOKEN")) != null) setToken(v);
    if ((v = env.get("FERRY_POSTGRES_URL")) != null) setPostgresUrl(v);
    if ((v = env.get("FERRY_POSTGRES_USER")) != null) setPostgresUser(v);
    if ((v = env.get("FERRY_POSTGRES_PASSWORD")) != null) setPostgresPassword(v);
    if ((v = env.get("FERRY_SECRETS_KEY")) != null) setSecretsKey(v);
    if ((v = env.get("FERRY_SANDBOX")) != null) setSandbox(v);
    return this;
  }

  private static int parseInt(String name, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is not a number: " + value);
    }
  }

  private static JsonObject section(JsonObject json, String key) {
    JsonObject s = json.getJsonObject(key);
    return s == null ? new JsonObject() : s;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("host", host)
        .put("api", new JsonObject().put("port", apiPort).put("metricsPublic", metricsPublic))
        .put("proxy", new JsonObject().put("port", proxyPort).put("timeoutMs", proxyTimeoutMs).put("instances", proxyInstances))
        .put("domain", domain)
        .put("dataDir", dataDir.toString())
        .put("server", new JsonObject().put("headerTimeoutMs", headerTimeoutMs).put("idleTimeoutMs", idleTimeoutMs)
            .put("maxConnectionsPerClient", maxConnectionsPerClient).put("trustedProxies", new JsonArray(trustedProxies)))
        .put("upload", new JsonObject().put("maxBytes", uploadMaxBytes).put("stallTimeoutMs", uploadStallTimeoutMs))
        .put("extract", new JsonObject().put("maxBytes", extractMaxBytes).put("maxEntries", extractMaxEntries)
            .put("maxNameLength", extractMaxNameLength))
        .put("build", new JsonObject().put("concurrency", buildConcurrency).put("queueCapacity", buildQueueCapacity)
            .put("memoryMb", buildMemoryMb).put("timeoutMs", buildTimeoutMs).put("tmpMb", buildTmpMb))
        .put("run", new JsonObject().put("startTimeoutMs", startTimeoutMs).put("drainTimeoutMs", drainTimeoutMs).put("threading", threading)
            .put("isolation", isolation).put("warmRunners", warmRunners).put("memoryMb", memoryMb).put("sharedMemoryMb", sharedMemoryMb)
            .put("portRange", portRange).put("orphanGraceMs", orphanGraceMs).put("eventLoops", eventLoops).put("idleTimeoutMs", sleepAfterMs).put("cds", cds)
            .put("jvmOptions", new JsonArray(jvmOptions)).put("cacheDir", cacheDir == null ? null : cacheDir.toString())
            .put("sandbox", sandbox).put("tmpMb", tmpMb).put("rssMb", rssMb).put("maxProcesses", maxProcesses)
            .put("maxOpenFiles", maxOpenFiles).put("cpuShares", cpuShares))
        .put("maven", new JsonObject().put("localRepository", mavenLocalRepository)
            .put("remoteRepositories", new JsonArray(mavenRemoteRepositories)).put("offline", mavenOffline)
            .put("settings", mavenSettings))
        .put("token", token)
        .put("tcpBridge", new JsonObject().put("enabled", tcpBridgeEnabled).put("port", tcpBridgePort))
        .put("artifacts", new JsonObject().put("keep", keepArtifacts))
        .put("load", new JsonObject().put("forbiddenCalls", new JsonArray(forbiddenCalls)))
        .put("resources", new JsonObject()
            .put("postgres", new JsonObject().put("url", postgresUrl).put("user", postgresUser).put("password", postgresPassword)
                .put("port", postgresPort))
            .put("secretsKey", secretsKey));
  }

  private static int port(int port) {
    if (port < 0 || port > 65535) throw new IllegalArgumentException("Port out of range: " + port);
    return port;
  }

  private static long positive(String what, long value) {
    if (value <= 0) throw new IllegalArgumentException(what + " must be positive: " + value);
    return value;
  }

  public String host() { return host; }
  public Config setHost(String host) { this.host = Objects.requireNonNull(host, "host"); return this; }
  public int apiPort() { return apiPort; }
  public Config setApiPort(int apiPort) { this.apiPort = port(apiPort); return this; }
  public int proxyPort() { return proxyPort; }
  public Config setProxyPort(int proxyPort) { this.proxyPort = port(proxyPort); return this; }
  public long proxyTimeoutMs() { return proxyTimeoutMs; }
  public Config setProxyTimeoutMs(long ms) { this.proxyTimeoutMs = positive("proxy.timeoutMs", ms); return this; }
  public int proxyInstances() { return proxyInstances; }
  public Config setProxyInstances(int v) {
    if (v < 0) throw new IllegalArgumentException("proxy.instances must not be negative: " + v);
    this.proxyInstances = v;
    return this;
  }
  /** How many proxy verticles run: {@code proxy.instances}, or one per core when it is 0. */
  public int effectiveProxyInstances() {
    return proxyInstances > 0 ? proxyInstances : Runtime.getRuntime().availableProcessors();
  }
  public String domain() { return domain; }
  public Config setDomain(String domain) { this.domain = Objects.requireNonNull(domain, "domain").toLowerCase(java.util.Locale.ROOT); return this; }
  public Path dataDir() { return dataDir; }
  public Config setDataDir(Path dataDir) { this.dataDir = Objects.requireNonNull(dataDir, "dataDir"); return this; }
  public long uploadMaxBytes() { return uploadMaxBytes; }
  public Config setUploadMaxBytes(long v) { this.uploadMaxBytes = positive("upload.maxBytes", v); return this; }
  public long extractMaxBytes() { return extractMaxBytes; }
  public Config setExtractMaxBytes(long v) { this.extractMaxBytes = positive("extract.maxBytes", v); return this; }
  public int extractMaxEntries() { return extractMaxEntries; }
  public Config setExtractMaxEntries(int v) { this.extractMaxEntries = (int) positive("extract.maxEntries", v); return this; }
  public int extractMaxNameLength() { return extractMaxNameLength; }
  public Config setExtractMaxNameLength(int v) { this.extractMaxNameLength = (int) positive("extract.maxNameLength", v); return this; }
  public int buildConcurrency() { return buildConcurrency; }
  public Config setBuildConcurrency(int v) { this.buildConcurrency = (int) positive("build.concurrency", v); return this; }
  public int buildQueueCapacity() { return buildQueueCapacity; }
  public Config setBuildQueueCapacity(int v) { this.buildQueueCapacity = (int) positive("build.queueCapacity", v); return this; }
  public long startTimeoutMs() { return startTimeoutMs; }
  public Config setStartTimeoutMs(long v) { this.startTimeoutMs = positive("run.startTimeoutMs", v); return this; }
  public long drainTimeoutMs() { return drainTimeoutMs; }
  public Config setDrainTimeoutMs(long v) { this.drainTimeoutMs = v < 0 ? 0 : v; return this; }
  /** The configured local repository, or null when unset (see {@link #DEFAULT_MAVEN_LOCAL_REPOSITORY}). */
  public String mavenLocalRepository() { return mavenLocalRepository; }
  public Config setMavenLocalRepository(String v) { this.mavenLocalRepository = v == null || v.isBlank() ? null : v; return this; }
  public List<String> mavenRemoteRepositories() { return mavenRemoteRepositories; }
  public Config setMavenRemoteRepositories(List<String> v) { this.mavenRemoteRepositories = List.copyOf(v); return this; }
  public boolean mavenOffline() { return mavenOffline; }
  public Config setMavenOffline(boolean v) { this.mavenOffline = v; return this; }
  /** The user settings.xml named in the config, or null for {@code ~/.m2/settings.xml}. */
  public String mavenSettings() { return mavenSettings; }
  public Config setMavenSettings(String v) { this.mavenSettings = v == null || v.isBlank() ? null : v; return this; }
  /** {@code worker} or {@code event-loop}: see {@link #DEFAULT_THREADING}. */
  public String threading() { return threading; }
  /** {@code process} or {@code shared}: see {@link #DEFAULT_ISOLATION}. */
  public String isolation() { return isolation; }
  public Config setIsolation(String v) { this.isolation = dev.ferry.deployment.RunSettings.isolation(v); return this; }
  public int warmRunners() { return warmRunners; }
  public Config setWarmRunners(int v) {
    if (v < 0) throw new IllegalArgumentException("run.warmRunners must not be negative: " + v);
    this.warmRunners = v;
    return this;
  }
  public int memoryMb() { return memoryMb; }
  public Config setMemoryMb(int v) { this.memoryMb = (int) positive("run.memoryMb", v); return this; }
  public int sharedMemoryMb() { return sharedMemoryMb; }
  public Config setSharedMemoryMb(int v) { this.sharedMemoryMb = (int) positive("run.sharedMemoryMb", v); return this; }
  public String portRange() { return portRange; }
  public Config setPortRange(String v) { dev.ferry.run.PortRange.parse(v); this.portRange = v; return this; }
  public long orphanGraceMs() { return orphanGraceMs; }
  public Config setOrphanGraceMs(long v) { this.orphanGraceMs = positive("run.orphanGraceMs", v); return this; }
  public int eventLoops() { return eventLoops; }
  public Config setEventLoops(int v) {
    if (v < 0) throw new IllegalArgumentException("run.eventLoops must not be negative: " + v);
    this.eventLoops = v;
    return this;
  }
  /** How long a service may go without a request before it is put to sleep; 0: never. */
  public long sleepAfterMs() { return sleepAfterMs; }
  public Config setSleepAfterMs(long v) {
    if (v < 0) throw new IllegalArgumentException("run.idleTimeoutMs must not be negative: " + v);
    this.sleepAfterMs = v;
    return this;
  }
  public boolean cds() { return cds; }
  public Config setCds(boolean v) { this.cds = v; return this; }
  /** Extra JVM options for every runner (say {@code -XX:+UseZGC}), after Ferry's own. */
  public List<String> jvmOptions() { return jvmOptions; }
  public Config setJvmOptions(List<String> v) { this.jvmOptions = List.copyOf(v); return this; }
  /**
   * Where the runner's jar and class-data-sharing archive are kept: {@code run.cacheDir}, else
   * {@code <dataDir>/cache}; absolute, since runners start in directories of their own.
   */
  public Path cacheDir() { return (cacheDir != null ? cacheDir : dataDir.resolve("cache")).toAbsolutePath().normalize(); }
  public Config setCacheDir(Path v) { this.cacheDir = v; return this; }
  public Config setThreading(String threading) {
    if (!"worker".equals(threading) && !"event-loop".equals(threading)) {
      throw new IllegalArgumentException("run.threading must be worker or event-loop, not " + threading);
    }
    this.threading = threading;
    return this;
  }

  /** Whether {@code /metrics} is open to callers without the API token. */
  public boolean metricsPublic() { return metricsPublic; }
  public Config setMetricsPublic(boolean metricsPublic) { this.metricsPublic = metricsPublic; return this; }

  /** The configured API token; null when the platform uses (or generates) {@code <data dir>/token}. */
  public String token() { return token; }
  public Config setToken(String token) { this.token = token == null || token.isBlank() ? null : token; return this; }
  public boolean tcpBridgeEnabled() { return tcpBridgeEnabled; }
  public Config setTcpBridgeEnabled(boolean v) { this.tcpBridgeEnabled = v; return this; }
  public int tcpBridgePort() { return tcpBridgePort; }
  public Config setTcpBridgePort(int v) { this.tcpBridgePort = port(v); return this; }
  /** How many of a service's newest artifacts are kept (older ones are deleted; running ones always stay). */
  public List<String> forbiddenCalls() { return forbiddenCalls; }
  public Config setForbiddenCalls(List<String> v) { this.forbiddenCalls = List.copyOf(v); return this; }
  public int keepArtifacts() { return keepArtifacts; }
  public Config setKeepArtifacts(int v) { this.keepArtifacts = (int) positive("artifacts.keep", v); return this; }

  /** {@code bwrap} or {@code none}: see {@link #DEFAULT_SANDBOX}. */
  public String sandbox() { return sandbox; }
  public Config setSandbox(String v) {
    String s = Objects.requireNonNull(v, "run.sandbox").trim().toLowerCase(java.util.Locale.ROOT);
    if (!s.equals("bwrap") && !s.equals("none")) throw new IllegalArgumentException("run.sandbox must be bwrap or none, not " + v);
    this.sandbox = s;
    return this;
  }
  public int tmpMb() { return tmpMb; }
  public Config setTmpMb(int v) { this.tmpMb = (int) positive("run.tmpMb", v); return this; }
  /** The configured resident-memory limit of a runner; 0 derives it from the heap (see {@link #DEFAULT_RSS_MB}). */
  public int rssMb() { return rssMb; }
  public Config setRssMb(int v) {
    if (v < 0) throw new IllegalArgumentException("run.rssMb must not be negative: " + v);
    this.rssMb = v;
    return this;
  }
  public int maxProcesses() { return maxProcesses; }
  public Config setMaxProcesses(int v) { this.maxProcesses = (int) positive("run.maxProcesses", v); return this; }
  public int maxOpenFiles() { return maxOpenFiles; }
  public Config setMaxOpenFiles(int v) { this.maxOpenFiles = (int) positive("run.maxOpenFiles", v); return this; }
  public int cpuShares() { return cpuShares; }
  public Config setCpuShares(int v) {
    if (v < 2 || v > 262_144) throw new IllegalArgumentException("run.cpuShares must be between 2 and 262144, not " + v);
    this.cpuShares = v;
    return this;
  }
  public int buildMemoryMb() { return buildMemoryMb; }
  public Config setBuildMemoryMb(int v) { this.buildMemoryMb = (int) positive("build.memoryMb", v); return this; }
  public long buildTimeoutMs() { return buildTimeoutMs; }
  public Config setBuildTimeoutMs(long v) { this.buildTimeoutMs = positive("build.timeoutMs", v); return this; }
  public int buildTmpMb() { return buildTmpMb; }
  public Config setBuildTmpMb(int v) { this.buildTmpMb = (int) positive("build.tmpMb", v); return this; }
  public long headerTimeoutMs() { return headerTimeoutMs; }
  public Config setHeaderTimeoutMs(long v) { this.headerTimeoutMs = positive("server.headerTimeoutMs", v); return this; }
  public long idleTimeoutMs() { return idleTimeoutMs; }
  public Config setIdleTimeoutMs(long v) { this.idleTimeoutMs = positive("server.idleTimeoutMs", v); return this; }
  public int maxConnectionsPerClient() { return maxConnectionsPerClient; }
  public Config setMaxConnectionsPerClient(int v) {
    if (v < 0) throw new IllegalArgumentException("server.maxConnectionsPerClient must not be negative: " + v);
    this.maxConnectionsPerClient = v;
    return this;
  }
  public List<String> trustedProxies() { return trustedProxies; }
  public Config setTrustedProxies(List<String> v) { this.trustedProxies = List.copyOf(v); return this; }
  public long uploadStallTimeoutMs() { return uploadStallTimeoutMs; }
  public Config setUploadStallTimeoutMs(long v) { this.uploadStallTimeoutMs = positive("upload.stallTimeoutMs", v); return this; }

  /** An existing PostgreSQL server for services' databases ({@code postgresql://host:5432/postgres}); null: the embedded one. */
  public String postgresUrl() { return postgresUrl; }
  public Config setPostgresUrl(String v) { this.postgresUrl = v == null || v.isBlank() ? null : v.trim(); return this; }
  /** The administrator the platform connects to {@link #postgresUrl} as (may create roles and databases). */
  public String postgresUser() { return postgresUser; }
  public Config setPostgresUser(String v) { this.postgresUser = v == null || v.isBlank() ? null : v; return this; }
  public String postgresPassword() { return postgresPassword; }
  public Config setPostgresPassword(String v) { this.postgresPassword = v == null || v.isEmpty() ? null : v; return this; }
  public int postgresPort() { return postgresPort; }
  public Config setPostgresPort(int v) { this.postgresPort = port(v); return this; }
  /** The key secrets are encrypted with (32 bytes, base64); null: {@code <data dir>/secrets.key}. */
  public String secretsKey() { return secretsKey; }
  public Config setSecretsKey(String v) { this.secretsKey = v == null || v.isBlank() ? null : v.trim(); return this; }
}
