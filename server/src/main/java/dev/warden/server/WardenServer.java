package dev.warden.server;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.CertificateVerifier;
import dev.warden.core.identity.ScramAccounts;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.core.identity.TokenVerifier;
import dev.warden.core.identity.UserDirectory;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.session.SessionRegistry;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.proxy.postgres.ListenerTls;
import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.proxy.postgres.PostgresProxy;
import dev.warden.proxy.postgres.ProxyAudit;
import dev.warden.proxy.postgres.ProxySettings;
import dev.warden.server.api.ApiDependencies;
import dev.warden.server.api.ApiServer;
import dev.warden.server.api.ConsoleOidcRoutes;
import dev.warden.server.api.DataMapRoutes;
import dev.warden.server.api.IdentityRoutes;
import dev.warden.server.api.MetricsRoutes;
import dev.warden.server.api.OverviewRoutes;
import dev.warden.server.api.PolicyRoutes;
import dev.warden.server.api.SessionRoutes;
import dev.warden.server.approval.ApprovalGateway;
import dev.warden.server.approval.ApprovalNotifier;
import dev.warden.server.approval.OpenWindows;
import dev.warden.server.approval.UpstreamRowCounter;
import dev.warden.server.audit.ExportService;
import dev.warden.server.audit.ExportSettings;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.datamap.PostgresDataMaps;
import dev.warden.server.identity.oidc.OidcVerifier;
import dev.warden.server.policy.PolicyFile;
import dev.warden.server.policy.PolicyReloader;
import dev.warden.server.secrets.MockKeyFile;
import dev.warden.server.tls.CertificateFiles;
import dev.warden.server.tls.SelfSignedCertificates;
import dev.warden.sql.postgres.PgQueryUnavailableException;
import dev.warden.sql.postgres.PostgresAnalyzer;
import dev.warden.sql.postgres.PostgresRedactor;
import dev.warden.store.embedded.EmbeddedStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * The composition root: the one place that builds Warden's parts with {@code new} and wires them
 * together, for {@code warden serve}, {@code warden demo} and end-to-end tests alike.
 */
public final class WardenServer implements AutoCloseable {
  /** The mock SCRAM key's location inside the data directory. */
  public static final Path MOCK_KEY_FILE = Path.of("secrets", "scram-mock.key");

  /**
   * The masking secret's location inside the data directory: 32 random bytes the keyed masking
   * strategies (pseudonyms, format-preserving replacement) derive their keys from, kept across
   * restarts so that pseudonyms stay the same.
   */
  public static final Path PSEUDONYM_KEY_FILE = Path.of("secrets", "masking-pseudonym.key");

  /**
   * The key approvals are bound with (an approval is used only by the statement and parameters it
   * was given for): 32 random bytes kept across restarts, so approvals survive them.
   */
  public static final Path APPROVAL_KEY_FILE = Path.of("secrets", "approval-binding.key");

  /** Where the generated certificate lives inside the data directory. */
  public static final Path TLS_DIRECTORY = Path.of("tls");

  private final WardenConfig config;
  private final EmbeddedStore store;
  private final PostgresProxy proxy;
  private final Optional<CertificateFiles> certificate;
  private final Supplier<Policy> policy;
  private final Optional<PolicyReloader> reloader;
  private final AuditRuntime audit;
  private final ApiServer api;
  private final ExportService export;
  private final PostgresDataMaps dataMaps;
  private final OidcVerifier tokens;
  private final Approvals approvals;
  private final ApprovalGateway approvalGateway;
  private final ScheduledExecutorService approvalExpiry;
  private final ApprovalNotifier notifier;

  private WardenServer(
      WardenConfig config,
      EmbeddedStore store,
      AuditRuntime audit,
      ApiServer api,
      ExportService export,
      PostgresDataMaps dataMaps,
      OidcVerifier tokens,
      Approvals approvals,
      ApprovalGateway approvalGateway,
      ScheduledExecutorService approvalExpiry,
      ApprovalNotifier notifier,
      PostgresProxy proxy,
      Optional<CertificateFiles> certificate,
      Supplier<Policy> policy,
      Optional<PolicyReloader> reloader) {
    this.tokens = tokens;
    this.approvals = approvals;
    this.approvalGateway = approvalGateway;
    this.approvalExpiry = approvalExpiry;
    this.notifier = notifier;
    this.config = config;
    this.store = store;
    this.audit = audit;
    this.api = api;
    this.export = export;
    this.dataMaps = dataMaps;
    this.proxy = proxy;
    this.certificate = certificate;
    this.policy = policy;
    this.reloader = reloader;
  }

  /**
   * Opens the store, prepares keys and TLS material, and starts listening.
   *
   * @throws StartupException when something it needs is missing, unreadable or taken, with a
   *     message fit to show the operator
   */
  public static WardenServer start(WardenConfig config, Clock clock, SecureRandom random)
      throws StartupException {
    Objects.requireNonNull(config, "config");
    Path dataDir = config.dataDir();
    // Policy and analyser before anything is opened: a bad policy file or a missing parser
    // library stops Warden with nothing to clean up.
    Optional<PolicyReloader> reloader = Optional.empty();
    Supplier<Policy> unkeyed;
    if (config.policy().isPresent()) {
      try {
        PolicyReloader watched =
            PolicyReloader.watch(config.policy().get(), PolicyReloader.DEFAULT_INTERVAL);
        reloader = Optional.of(watched);
        unkeyed = watched;
      } catch (PolicyException e) {
        throw new StartupException("invalid policy:\n" + e.getMessage(), e);
      }
    } else {
      unkeyed = PolicyReloader.fixed(PolicyFile.defaultPolicy());
    }
    SqlAnalyzer analyzer;
    try {
      analyzer = new PostgresAnalyzer();
    } catch (PgQueryUnavailableException e) {
      reloader.ifPresent(PolicyReloader::close);
      throw new StartupException(e.getMessage(), e);
    }
    // The store first: it creates the data directory private before anything is written into it.
    EmbeddedStore store;
    try {
      store = EmbeddedStore.open(dataDir);
    } catch (RuntimeException e) {
      reloader.ifPresent(PolicyReloader::close);
      throw new StartupException("cannot open the store in " + dataDir + ": " + e.getMessage(), e);
    }
    // The masking key once the store has made the data directory private.
    Supplier<Policy> policy;
    try {
      policy = new KeyedPolicy(unkeyed, pseudonymKey(dataDir, random));
    } catch (StartupException e) {
      reloader.ifPresent(PolicyReloader::close);
      store.close();
      throw e;
    }
    // The audit trail before the listener: no session may begin that cannot be recorded.
    AuditRuntime audit;
    try {
      audit = AuditRuntime.start(config.audit(), dataDir, store, new PostgresRedactor(), clock);
    } catch (StartupException e) {
      reloader.ifPresent(PolicyReloader::close);
      store.close();
      throw e;
    }
    recordPolicyLoad(audit, config, policy.get());
    reloader.ifPresent(r -> r.onChange(outcome -> recordPolicyChange(audit, r, outcome)));
    PostgresProxy proxy = null;
    ApiServer api = null;
    ExportService export = null;
    PostgresDataMaps dataMaps = null;
    OidcVerifier tokens = null;
    Approvals approvals = null;
    ApprovalGateway approvalGateway = null;
    ScheduledExecutorService approvalExpiry = null;
    ApprovalNotifier notifier = null;
    AuthThrottle throttle = new AuthThrottle(clock);
    try {
      export =
          ExportService.start(
              config.audit().exports(),
              dataDir.resolve(ExportService.CURSOR_DIRECTORY),
              audit.source(),
              audit.feed(),
              ExportSettings.defaults(),
              System.out);
      approvals = new Approvals(store.approvals(), clock, random);
      AuditRuntime trail = audit;
      approvals.onChange(request -> recordApproval(trail, request));
      // The open access windows, in memory for the proxy's logins: from the store now, then kept
      // current by every change of a request in this process.
      OpenWindows windows = new OpenWindows();
      approvals.onChange(windows::changed);
      windows.load(approvals, clock.instant());
      Environments environments = new Environments(config.environments());
      // Set once the policy's gatekeeper exists; until then no access request is admitted.
      AtomicReference<PolicyGatekeeper> admitting = new AtomicReference<>();
      notifier = new ApprovalNotifier(config.approvals(), clock);
      approvals.onChange(notifier::changed);
      TokenVerifier tokenVerifier = TokenVerifier.NONE;
      if (!config.identity().oidc().isEmpty()) {
        tokens = new OidcVerifier(config.identity().oidc(), clock);
        // Keys fetched before the first login needs them; an unreachable provider is logged and
        // retried at the first login.
        tokens.prefetch();
        tokenVerifier = tokens;
      }
      ScramAccounts accounts =
          ScramAccounts.firstOf(
              List.of(
                  ScramAccounts.of(store.users()),
                  ServiceTokens.accounts(store.serviceTokens(), clock)));
      // Set once the data maps and the decision point exist, which come after the API.
      AtomicReference<PostgresDataMaps> mapsForApi = new AtomicReference<>();
      // The live sessions: listed by the proxy, shown and ended through the API.
      SessionRegistry sessions = new SessionRegistry(new PostgresRedactor());
      api =
          ApiServer.start(
              config.console(),
              new ApiDependencies(
                      store.users(), audit.search(), audit.trail(), audit.feed(), throttle, clock)
                  .withLogins(accounts, tokenVerifier)
                  .withRoutes(SessionRoutes.of(sessions, audit.trail(), clock))
                  .withRoutes(
                      MetricsRoutes.of(
                          sessions, environments, audit.trail(), Optional.of(approvals)))
                  .withApprovals(approvals)
                  .withRoutes(
                      OverviewRoutes.of(
                          environments, sessions, audit.search(), Optional.of(approvals), clock))
                  .withRoutes(DataMapRoutes.of(mapsForApi::get, environments, policy))
                  .withRoutes(
                      PolicyRoutes.of(policy, config.policy(), admitting::get, environments, clock))
                  .withRoutes(
                      IdentityRoutes.of(
                          store.users(), store.serviceTokens(), audit.trail(), clock, random))
                  .withRoutes(
                      ConsoleOidcRoutes.of(
                          config.identity().oidc(), tokenVerifier, audit.trail(), clock, random))
                  .withAccess(
                      environments,
                      (identity, environment, source) -> {
                        PolicyGatekeeper g = admitting.get();
                        return g != null
                            && g.admit(
                                    new SessionContext(
                                        "api",
                                        identity,
                                        environment,
                                        source,
                                        environment.name(),
                                        "warden-api"))
                                .allowed();
                      }));
      Secret mockKey = mockKey(dataDir, random);
      ListenerTls listenerTls;
      Optional<CertificateFiles> generated = Optional.empty();
      TlsConfig tls = config.tls();
      if (tls.certificate().isPresent() && tls.privateKey().isPresent()) {
        listenerTls =
            new ListenerTls(
                tls.certificate().orElseThrow(), tls.privateKey().orElseThrow(), tls.required());
      } else {
        CertificateFiles files = selfSigned(dataDir, clock, random);
        generated = Optional.of(files);
        listenerTls = new ListenerTls(files.certificate(), files.privateKey(), tls.required());
      }
      if (tls.clientCertificates().isPresent()) {
        TlsConfig.ClientCertificates clients = tls.clientCertificates().get();
        listenerTls =
            listenerTls.withClientCertificates(
                new ListenerTls.ClientCertificates(
                    clients.ca(), clients.required(), clients.settings(), clients.crl()));
      }
      Optional<CertificateVerifier> certificates =
          listenerTls.clientCertificates().map(c -> c.verifier(clock));
      LoginSettings logins =
          new LoginSettings(
              tokenVerifier,
              certificates,
              config.identity().atExpiry(),
              config.identity().expiryGrace(),
              ServiceTokens.useRecorder(store.serviceTokens(), clock));
      Supplier<Policy> keyed = policy;
      dataMaps =
          new PostgresDataMaps(
              config.environments(),
              config.dataMap(),
              () -> keyed.get().masking().detectors(),
              Optional.of(analyzer),
              clock);
      mapsForApi.set(dataMaps);
      PolicyGatekeeper gatekeeper =
          new PolicyGatekeeper(analyzer, policy, config.observedEnvironments(), clock, dataMaps);
      admitting.set(gatekeeper);
      approvalGateway =
          new ApprovalGateway(
              approvals,
              approvalKey(dataDir, random),
              new PostgresRedactor(),
              (decision, session, rows, reason) ->
                  gatekeeper.autoApproval(decision, session, rows, reason.orElse("")),
              new UpstreamRowCounter(Duration.ofSeconds(5)),
              Optional.of(reviewerLinks(config, api)));
      Approvals expiring = approvals;
      approvalExpiry =
          Executors.newSingleThreadScheduledExecutor(
              Thread.ofVirtual().name("warden-approval-expiry").factory());
      approvalExpiry.scheduleWithFixedDelay(
          () -> {
            try {
              expiring.expireDue();
            } catch (RuntimeException e) {
              LoggerFactory.getLogger(WardenServer.class)
                  .warn("expiring approval requests failed: {}", e.getMessage());
            }
          },
          1,
          1,
          TimeUnit.MINUTES);
      ProxySettings defaults = ProxySettings.defaults(config.listen().toSocketAddress());
      ProxySettings settings =
          new ProxySettings(
              defaults.listen(),
              Optional.of(listenerTls),
              defaults.authTimeout(),
              defaults.maxClients(),
              defaults.maxMessageBytes());
      proxy =
          new PostgresProxy(
              settings,
              environments,
              new ScramServer(accounts, mockKey, random),
              throttle,
              gatekeeper,
              new ProxyAudit(
                  audit.trail(), config.audit().strict(), clock, config.audit().recordParameters()),
              dataMaps,
              logins,
              approvalGateway,
              windows,
              sessions);
      try {
        proxy.start();
      } catch (UncheckedIOException e) {
        throw new StartupException(
            "cannot listen on " + config.listen() + ": " + e.getMessage(), e);
      }
      return new WardenServer(
          config,
          store,
          audit,
          api,
          export,
          dataMaps,
          tokens,
          approvals,
          approvalGateway,
          approvalExpiry,
          notifier,
          proxy,
          generated,
          policy,
          reloader);
    } catch (StartupException | RuntimeException e) {
      reloader.ifPresent(PolicyReloader::close);
      closeQuietly(
          api,
          proxy,
          closer(approvalExpiry),
          approvalGateway,
          approvals,
          notifier,
          tokens,
          dataMaps,
          export,
          audit,
          store);
      throw e instanceof StartupException startup
          ? startup
          : new StartupException("cannot start the proxy: " + e.getMessage(), e);
    }
  }

  private static byte[] approvalKey(Path dataDir, SecureRandom random) throws StartupException {
    try {
      return MockKeyFile.loadOrCreate(dataDir.resolve(APPROVAL_KEY_FILE), random).bytes();
    } catch (IOException e) {
      throw new StartupException("cannot prepare the approval key: " + e.getMessage(), e);
    }
  }

  /**
   * Where reviewers open a request ({@code BASE/approvals/ID}, the console's page for it): the
   * configured public address, else the console on this machine.
   */
  private static URI reviewerLinks(WardenConfig config, ApiServer api) {
    Optional<URI> configured = config.approvals().publicUrl();
    if (configured.isPresent()) {
      String text = configured.get().toString();
      return URI.create(text.endsWith("/") ? text : text + "/");
    }
    return URI.create(
        "http://" + api.address().getHostString() + ":" + api.address().getPort() + "/");
  }

  private static AutoCloseable closer(ScheduledExecutorService executor) {
    return executor == null ? null : executor::shutdownNow;
  }

  /**
   * Records a change of an approval request made in this process (by the proxy, the REST API or
   * expiry): made, reviewed, approved, denied, used, expired or cancelled.
   */
  private static void recordApproval(AuditRuntime audit, ApprovalRequest r) {
    if (r.access().isPresent()) {
      recordAccess(audit, r);
      return;
    }
    String event;
    String actor = r.requester();
    Map<String, String> details = new java.util.LinkedHashMap<>();
    details.put("request", r.id());
    details.put("environment", r.environment());
    details.put("rule", r.rule());
    details.put("fingerprint", r.fingerprint());
    details.put("requester", r.requester());
    r.rows().ifPresent(n -> details.put("rows", Long.toString(n)));
    r.reason().ifPresent(reason -> details.put("reason", reason));
    Optional<ApprovalRequest.Review> last =
        r.reviews().isEmpty() ? Optional.empty() : Optional.of(r.reviews().getLast());
    switch (r.status()) {
      case PENDING -> event = last.isEmpty() ? "approval-request" : "approval-review";
      case APPROVED -> event = "approval-approve";
      case DENIED -> event = "approval-deny";
      case USED -> event = "approval-use";
      case EXPIRED -> event = "approval-expire";
      case CANCELLED -> event = "approval-cancel";
      default -> event = "approval-" + r.status().name().toLowerCase(java.util.Locale.ROOT);
    }
    if (r.status() != ApprovalRequest.Status.USED
        && r.status() != ApprovalRequest.Status.EXPIRED
        && r.status() != ApprovalRequest.Status.CANCELLED
        && last.isPresent()) {
      actor = last.get().reviewer();
      details.put("reviewer", last.get().reviewer());
      if (!last.get().comment().isBlank()) {
        details.put("comment", last.get().comment());
      }
      if (last.get().breakGlass()) {
        details.put("break_glass", "true");
      }
    }
    if (r.status() == ApprovalRequest.Status.USED && last.isPresent()) {
      details.put("approved_by", last.get().reviewer());
      if (last.get().reviewer().equals(Approvals.AUTOMATIC_REVIEWER)) {
        details.put("automatic", last.get().comment());
      }
    }
    audit.record(event, r.status() != ApprovalRequest.Status.DENIED, actor, details);
  }

  /**
   * Records a change of an access request: {@code access-request}, {@code access-review} (one of
   * several approvals), {@code access-approve} followed by {@code access-window-open}, {@code
   * access-deny}, {@code access-expire} (nobody decided in time), {@code access-cancel} (withdrawn;
   * followed by {@code access-window-end} when its window was open) and {@code access-window-end}
   * when the window ran its time.
   */
  private static void recordAccess(AuditRuntime audit, ApprovalRequest r) {
    ApprovalRequest.Access access = r.access().orElseThrow();
    Map<String, String> details = new java.util.LinkedHashMap<>();
    details.put("request", r.id());
    details.put("environment", r.environment());
    details.put("role", access.role());
    details.put("duration", JustInTime.format(access.duration()));
    details.put("requester", r.requester());
    r.reason().ifPresent(reason -> details.put("reason", reason));
    Optional<ApprovalRequest.Review> last =
        r.reviews().isEmpty() ? Optional.empty() : Optional.of(r.reviews().getLast());
    Map<String, String> window = new java.util.LinkedHashMap<>(details);
    access.start().ifPresent(t -> window.put("window_start", t.toString()));
    access.end().ifPresent(t -> window.put("window_end", t.toString()));
    switch (r.status()) {
      case PENDING -> {
        if (last.isEmpty()) {
          audit.record("access-request", true, r.requester(), details);
        } else {
          audit.record("access-review", true, last.get().reviewer(), reviewed(details, last.get()));
        }
      }
      case APPROVED -> {
        String reviewer = last.map(ApprovalRequest.Review::reviewer).orElse("");
        audit.record("access-approve", true, reviewer, reviewed(details, last.orElseThrow()));
        audit.record("access-window-open", true, r.requester(), window);
      }
      case DENIED ->
          audit.record(
              "access-deny",
              false,
              last.map(ApprovalRequest.Review::reviewer).orElse(""),
              last.map(v -> reviewed(details, v)).orElse(details));
      case EXPIRED -> audit.record("access-expire", true, r.requester(), details);
      case CANCELLED -> {
        audit.record("access-cancel", true, r.requester(), details);
        if (access.start().isPresent()) {
          window.put("ended", "cancelled");
          audit.record("access-window-end", true, r.requester(), window);
        }
      }
      case USED -> {
        window.put("ended", "time");
        audit.record("access-window-end", true, r.requester(), window);
      }
    }
  }

  private static Map<String, String> reviewed(
      Map<String, String> details, ApprovalRequest.Review review) {
    Map<String, String> out = new java.util.LinkedHashMap<>(details);
    out.put("reviewer", review.reviewer());
    if (!review.comment().isBlank()) {
      out.put("comment", review.comment());
    }
    if (review.breakGlass()) {
      out.put("break_glass", "true");
    }
    return out;
  }

  private static Secret mockKey(Path dataDir, SecureRandom random) throws StartupException {
    try {
      return MockKeyFile.loadOrCreate(dataDir.resolve(MOCK_KEY_FILE), random);
    } catch (IOException e) {
      throw new StartupException("cannot prepare the SCRAM mock key: " + e.getMessage(), e);
    }
  }

  private static byte[] pseudonymKey(Path dataDir, SecureRandom random) throws StartupException {
    try {
      return MockKeyFile.loadOrCreate(dataDir.resolve(PSEUDONYM_KEY_FILE), random).bytes();
    } catch (IOException e) {
      throw new StartupException("cannot prepare the masking key: " + e.getMessage(), e);
    }
  }

  /**
   * The policy in force with the server's masking key given to it. A keyed copy is made once per
   * policy (each reload), not per statement: the copy starts with an empty judgement cache.
   */
  private static final class KeyedPolicy implements Supplier<Policy> {
    private record Keyed(Policy source, Policy keyed) {}

    private final Supplier<Policy> source;
    private final byte[] key;
    private volatile Keyed last;

    KeyedPolicy(Supplier<Policy> source, byte[] key) {
      this.source = source;
      this.key = key;
    }

    @Override
    public Policy get() {
      Policy current = source.get();
      Keyed k = last;
      if (k != null && k.source() == current) {
        return k.keyed();
      }
      Policy keyed = current.withPseudonymKey(key);
      last = new Keyed(current, keyed);
      return keyed;
    }
  }

  private static CertificateFiles selfSigned(Path dataDir, Clock clock, SecureRandom random)
      throws StartupException {
    try {
      return new SelfSignedCertificates(clock, random)
          .ensure(dataDir.resolve(TLS_DIRECTORY), SelfSignedCertificates.localHostNames());
    } catch (IOException e) {
      throw new StartupException(
          "cannot prepare a self-signed TLS certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Closes what was started, newest first: the doors (API, proxy) before what they record to and
   * the data maps they mask by, the trail before the store whose outbox feeds it.
   */
  private static void closeQuietly(AutoCloseable... parts) {
    for (AutoCloseable part : parts) {
      if (part == null) {
        continue;
      }
      try {
        part.close();
      } catch (Exception e) {
        LoggerFactory.getLogger(WardenServer.class).warn("closing {} failed", part, e);
      }
    }
  }

  /** Records the policy Warden starts with. */
  private static void recordPolicyLoad(AuditRuntime audit, WardenConfig config, Policy policy) {
    audit.record(
        "policy-load",
        true,
        EmbeddedStore.osActor(),
        Map.of(
            "file", config.policy().map(Path::toString).orElse("(built-in default)"),
            "version", Long.toHexString(policy.version()),
            "rules", String.valueOf(policy.rules().size())));
  }

  /** Records a reload of the watched policy file, or a change to it that was rejected. */
  private static void recordPolicyChange(
      AuditRuntime audit, PolicyReloader reloader, PolicyReloader.Outcome outcome) {
    String file = reloader.file().toString();
    switch (outcome) {
      case PolicyReloader.Outcome.Reloaded r ->
          audit.record(
              "policy-reload",
              true,
              "",
              Map.of(
                  "file", file,
                  "version", Long.toHexString(r.policy().version()),
                  "rules", String.valueOf(r.policy().rules().size())));
      case PolicyReloader.Outcome.Rejected r ->
          audit.record(
              "policy-reload",
              false,
              "",
              Map.of("file", file, "problem", r.problem().getMessage()));
      case PolicyReloader.Outcome.Unchanged u -> {}
    }
  }

  /** Searches this server's audit trail. */
  public AuditSearch auditSearch() {
    return audit.search();
  }

  /** The address clients connect to (the real port when the configuration asked for port 0). */
  public InetSocketAddress address() {
    return proxy.address();
  }

  /** The configuration it was started with. */
  public WardenConfig config() {
    return config;
  }

  /** The certificate Warden generated for itself, when none was configured. */
  public Optional<CertificateFiles> generatedCertificate() {
    return certificate;
  }

  /** When the listener's certificate expires, if Warden generated it. */
  public Optional<Instant> certificateExpiry() {
    return certificate.map(CertificateFiles::notAfter);
  }

  /** The local users clients authenticate as. */
  public UserDirectory users() {
    return store.users();
  }

  /** The policy in force now (it changes when a watched policy file is edited). */
  public Policy policy() {
    return policy.get();
  }

  /** Stops watching the policy file and listening, then closes the store. */
  @Override
  public void close() {
    reloader.ifPresent(PolicyReloader::close);
    closeQuietly(
        api,
        proxy,
        closer(approvalExpiry),
        approvalGateway,
        approvals,
        notifier,
        tokens,
        dataMaps,
        export,
        audit,
        store);
  }

  /** The data maps of the configured environments' databases, as the proxy masks by them. */
  public DataMaps dataMaps() {
    return dataMaps;
  }

  /** Where the REST API listens (the real port when the configuration asked for port 0). */
  public InetSocketAddress apiAddress() {
    return api.address();
  }

  /** The approval requests of this server's store, and their rules. */
  public Approvals approvals() {
    return approvals;
  }
}
