package dev.warden.server.api;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.Redactor;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.TokenVerifier;
import dev.warden.core.session.SessionRegistry;
import dev.warden.server.config.HostPort;
import dev.warden.server.policy.PolicyFile;
import dev.warden.store.embedded.EmbeddedStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A REST API serving approvals from a real embedded (SQLite) store, with local users in every role
 * a review needs and a clock the test moves: for the API's and the CLI's approval tests.
 */
public final class ApprovalFixture implements AutoCloseable {
  public static final Instant START = Instant.parse("2026-11-01T12:00:00Z");
  public static final byte[] BINDING_KEY =
      "binding key for tests, 32 bytes!".getBytes(StandardCharsets.US_ASCII);

  /** Requester (developers). */
  public static final String ALICE = "alice";

  /** Approver (approvers). */
  public static final String BOB = "bob";

  /** Approver (approvers, dba). */
  public static final String CAROL = "carol";

  /** Another developer, who may neither see alice's requests nor approve. */
  public static final String DEV = "dev";

  /** An admin, who sees every request but approves only where a rule names admins. */
  public static final String ROOT = "root";

  /** Every user's password is its name followed by this. */
  public static final String PASSWORD_SUFFIX = " password";

  public final ManualClock clock = new ManualClock(START);
  public final ChainingTrail trail = new ChainingTrail();
  public final MemoryUsers users =
      new MemoryUsers()
          .add(ALICE, ALICE + PASSWORD_SUFFIX, "developers")
          .add(BOB, BOB + PASSWORD_SUFFIX, "approvers")
          .add(CAROL, CAROL + PASSWORD_SUFFIX, "approvers", "dba")
          .add(DEV, DEV + PASSWORD_SUFFIX, "developers")
          .add(ROOT, ROOT + PASSWORD_SUFFIX, "admins");
  public final EmbeddedStore store;
  public final Approvals approvals;

  /** The live sessions the API shows (none unless a test adds some). */
  public final SessionRegistry sessions = new SessionRegistry(Redactor.NONE);

  public final ApiServer api;

  public ApprovalFixture(Path dataDir) throws Exception {
    store = EmbeddedStore.open(dataDir, "test", clock);
    approvals = new Approvals(store.approvals(), clock, new SecureRandom());
    api =
        ApiServer.start(
            new HostPort("127.0.0.1", 0),
            new ApiDependencies(
                    users,
                    new MemorySearch(clock, () -> trail.appended().size()),
                    trail,
                    trail,
                    new AuthThrottle(clock),
                    clock)
                .withApprovals(approvals)
                .withRoutes(
                    OverviewRoutes.of(
                        ENVIRONMENTS,
                        sessions,
                        new MemorySearch(clock, () -> trail.appended().size()),
                        Optional.of(approvals),
                        clock))
                // no data maps and no decision point here: those endpoints answer 503
                .withRoutes(DataMapRoutes.of(() -> null, ENVIRONMENTS, PolicyFile::defaultPolicy))
                .withRoutes(
                    PolicyRoutes.of(
                        PolicyFile::defaultPolicy,
                        Optional.empty(),
                        () -> null,
                        ENVIRONMENTS,
                        clock))
                .withRoutes(
                    IdentityRoutes.of(
                        users, store.serviceTokens(), trail, clock, new SecureRandom()))
                .withRoutes(
                    ConsoleOidcRoutes.of(
                        List.of(), TokenVerifier.NONE, trail, clock, new SecureRandom()))
                .withRoutes(SessionRoutes.of(sessions, trail, clock))
                .withAccess(
                    ENVIRONMENTS,
                    (identity, environment, source) -> !identity.name().equals(ROOT)));
  }

  /**
   * The environment {@code production}: developers read as {@code app_ro} (role reader); role
   * writer ({@code app_rw}) is reached only through an access window, asked for by developers and
   * approved by approvers, for at most 2 hours; role admin by anyone admitted (root is not), two
   * approvals from approvers or dba. Policy admits everyone but root.
   */
  public static final Environments ENVIRONMENTS =
      new Environments(
          List.of(
              new Environment(
                  "production",
                  Set.of("production"),
                  List.of("shop"),
                  new Upstream(
                      "127.0.0.1",
                      5432,
                      Optional.empty(),
                      "warden",
                      Secret.of(""),
                      TlsMode.DISABLE,
                      Optional.empty()),
                  List.of(
                      new RoleMapping(
                          Set.of("developers"),
                          Set.of(),
                          "app_ro",
                          Secret.of(""),
                          Optional.of("reader"),
                          Optional.empty()),
                      new RoleMapping(
                          Set.of(),
                          Set.of(),
                          "app_rw",
                          Secret.of(""),
                          Optional.of("writer"),
                          Optional.of(
                              new JustInTime(
                                  Set.of("approvers"),
                                  1,
                                  Duration.ofHours(2),
                                  Set.of("developers"),
                                  false))),
                      new RoleMapping(
                          Set.of(),
                          Set.of(),
                          "app_admin",
                          Secret.of(""),
                          Optional.of("admin"),
                          Optional.of(
                              new JustInTime(
                                  Set.of("approvers", "dba"),
                                  2,
                                  Duration.ofHours(1),
                                  Set.of(),
                                  false)))))));

  public String server() {
    return "http://127.0.0.1:" + api.address().getPort();
  }

  public static Identity identity(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.SCRAM_SHA_256);
  }

  /** A pending request by {@code requester} for {@code statement} under {@code requirement}. */
  public ApprovalRequest request(
      Identity requester, String statement, ApprovalRequirement requirement) {
    return approvals.request(
        new Approvals.Draft(
            requester,
            "production",
            "shop",
            statement,
            "fp-" + statement.length(),
            Approvals.binding(BINDING_KEY, statement, List.of()),
            "prod-ddl",
            "schema changes in production need an approver",
            Optional.of("ticket OPS-12"),
            OptionalLong.of(3),
            requirement));
  }

  /** A pending request by alice under the default requirement (one of approvers). */
  public ApprovalRequest aliceAsks(String statement) {
    return request(identity(ALICE, "developers"), statement, ApprovalRequirement.DEFAULT);
  }

  public static ApprovalRequirement requirement(
      int approvals, boolean breakGlass, String... groups) {
    return new ApprovalRequirement(
        Set.of(groups),
        approvals,
        false,
        ApprovalRequirement.Wait.ERROR,
        Duration.ofMinutes(10),
        Duration.ofHours(1),
        false,
        breakGlass);
  }

  /** The events named {@code name} the API recorded. */
  public List<AuditEvent> events(String name) {
    List<AuditEvent> out = new ArrayList<>();
    for (AuditRecord r : trail.appended()) {
      if (r instanceof AuditEvent e && e.name().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  @Override
  public void close() {
    api.close();
    approvals.close();
    store.close();
  }

  /** A clock the test moves by hand. */
  public static final class ManualClock extends Clock {
    private final AtomicReference<Instant> now;

    ManualClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    public void advance(Duration by) {
      now.updateAndGet(t -> t.plus(by));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
