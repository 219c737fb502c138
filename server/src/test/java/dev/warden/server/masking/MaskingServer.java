package dev.warden.server.masking;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.testkit.RecordingRelay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The whole Warden server in front of a {@link MaskingFixture}, with the two identities the masking
 * tests need and a policy file that masks by default and exempts the group {@code auditors}: {@code
 * restricted} (group {@code analysts}) and {@code auditor} (group {@code auditors}). Clients
 * connect through {@link RecordingRelay}s, one per client, so that the bytes Warden sends each are
 * kept apart.
 */
final class MaskingServer implements AutoCloseable {
  static final String ENVIRONMENT = "masking";
  static final String RESTRICTED = "restricted";
  static final String AUDITOR = "auditor";

  private final WardenServer server;
  private final String password;
  private final List<RecordingRelay> relays = new java.util.concurrent.CopyOnWriteArrayList<>();

  private final Path dataDir;

  private MaskingServer(WardenServer server, String password, Path dataDir) {
    this.server = server;
    this.password = password;
    this.dataDir = dataDir;
  }

  /**
   * Warden's data directory: in memory when this machine has /dev/shm, so that the audit trail's
   * fsync before every statement (thousands here) costs nothing; what is tested is masking, and the
   * trail's durability has tests of its own.
   */
  private static Path dataDir(Path dir) throws IOException {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return Files.createTempDirectory(shm, "warden-masking-");
    }
    return dir.resolve("data");
  }

  /**
   * The policy file: the default policy's shape with masking on for everyone but {@code auditors},
   * and inference through predicates on masked columns refused or allowed.
   */
  static String policy(boolean denyInference) {
    return """
        default: allow
        masking:
          exempt:
            - group: auditors
          deny_inference: %s
        """
        .formatted(denyInference);
  }

  static MaskingServer start(
      MaskingFixture fixture, Path dir, SecureRandom random, boolean denyInference)
      throws Exception {
    Files.createDirectories(dir);
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, policy(denyInference));
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.of(fixture.database()),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    Path dataDir = dataDir(dir);
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dataDir,
            new TlsConfig(Optional.empty(), Optional.empty(), false),
            List.of(new Environment(ENVIRONMENT, Set.of(), List.of(ENVIRONMENT), upstream)),
            Optional.of(policy),
            Set.of());
    WardenServer server;
    try {
      server = WardenServer.start(config, Clock.systemUTC(), random);
    } catch (Exception e) {
      deleteInMemory(dataDir);
      throw e;
    }
    String password = "masking " + HexFormat.of().formatHex(random.generateSeed(8));
    server
        .users()
        .put(
            new LocalUser(
                RESTRICTED,
                Set.of("analysts"),
                ScramCredentials.derive(Secret.of(password), random, 4096),
                Instant.now()));
    server
        .users()
        .put(
            new LocalUser(
                AUDITOR,
                Set.of("auditors"),
                ScramCredentials.derive(Secret.of(password), random, 4096),
                Instant.now()));
    return new MaskingServer(server, password, dataDir);
  }

  /** A relay of its own in front of Warden: what passes through it is one client's alone. */
  RecordingRelay relay() throws IOException {
    RecordingRelay relay = RecordingRelay.start(server.address());
    relays.add(relay);
    return relay;
  }

  /** The restricted identity's login through {@code relay}. */
  CaseSession.Login restricted(RecordingRelay relay) {
    return new CaseSession.Login(relay.address(), ENVIRONMENT, RESTRICTED, password);
  }

  /** The exempt identity's login through {@code relay}. */
  CaseSession.Login auditor(RecordingRelay relay) {
    return new CaseSession.Login(relay.address(), ENVIRONMENT, AUDITOR, password);
  }

  @Override
  public void close() {
    relays.forEach(RecordingRelay::close);
    server.close();
    deleteInMemory(dataDir);
  }

  private static void deleteInMemory(Path dataDir) {
    if (!dataDir.startsWith("/dev/shm")) {
      return; // under the test's @TempDir, which JUnit removes
    }
    try (var paths = Files.walk(dataDir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot remove " + dataDir, e);
    }
  }
}
