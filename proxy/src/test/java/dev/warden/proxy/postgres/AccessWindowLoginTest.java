package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.environment.AccessWindow;
import dev.warden.core.environment.AccessWindows;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.Secret;
import dev.warden.core.masking.DataMaps;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The role a session logs in as when its identity has an open access window, through the proxy to
 * the real PostgreSQL: the window's role for sessions opened during the window, the normal role
 * before and after, and an elevated session ended (when idle) once its window ends.
 */
class AccessWindowLoginTest {
  private final String suffix = Long.toHexString(System.nanoTime());
  private final String reader = "warden_t_reader_" + suffix;
  private final String writer = "warden_t_writer_" + suffix;
  private final OpenWindows windows = new OpenWindows();
  private ProxyFixture fixture;

  /** The port, answered from a map the test changes: what the server keeps in memory. */
  static final class OpenWindows implements AccessWindows {
    final Map<String, AccessWindow> open = new ConcurrentHashMap<>();

    @Override
    public Optional<AccessWindow> openFor(String identity, String environment, Instant at) {
      return open.values().stream()
          .filter(w -> w.identity().equals(identity) && w.environment().equals(environment))
          .filter(w -> w.openAt(at))
          .max(java.util.Comparator.comparing(AccessWindow::end));
    }

    @Override
    public boolean isOpen(String id, Instant at) {
      AccessWindow w = open.get(id);
      return w != null && w.openAt(at);
    }
  }

  @BeforeEach
  void roles() {
    ProxyFixture.admin("CREATE ROLE " + reader + " LOGIN");
    ProxyFixture.admin("CREATE ROLE " + writer + " LOGIN");
  }

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
    ProxyFixture.admin("DROP ROLE IF EXISTS " + reader);
    ProxyFixture.admin("DROP ROLE IF EXISTS " + writer);
  }

  private void start(boolean reuse) {
    UnaryOperator<Environment> roles =
        env ->
            new Environment(
                env.name(),
                env.tags(),
                env.databases(),
                env.upstream(),
                List.of(
                    new RoleMapping(
                        Set.of("engineers"),
                        Set.of(),
                        reader,
                        Secret.of(""),
                        Optional.of("reader"),
                        Optional.empty()),
                    new RoleMapping(
                        Set.of(),
                        Set.of(),
                        writer,
                        Secret.of(""),
                        Optional.of("writer"),
                        Optional.of(JustInTime.DEFAULT))));
    fixture =
        new ProxyFixture(
            Gatekeeper.allowAll(),
            s -> s.withUpstreamReuse(reuse),
            DataMaps.NONE,
            new LoginSettings(
                dev.warden.core.identity.TokenVerifier.NONE,
                Optional.empty(),
                LoginSettings.AtExpiry.WHEN_IDLE,
                Duration.ofMinutes(5)),
            roles,
            ApprovalGate.NONE,
            windows);
    fixture.sql("GRANT CONNECT ON DATABASE " + fixture.database + " TO " + reader + ", " + writer);
  }

  private AccessWindow open(String id, Duration length) {
    Instant now = Instant.now();
    AccessWindow w =
        new AccessWindow(id, ProxyFixture.USER, "test", "writer", now, now.plus(length));
    windows.open.put(id, w);
    return w;
  }

  private static String user(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_user")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private List<AuditEvent> events(String name) {
    return fixture.audit.records().stream()
        .filter(r -> r instanceof AuditEvent e && e.name().equals(name))
        .map(r -> (AuditEvent) r)
        .toList();
  }

  @Test
  void aSessionOpenedDuringAWindowLogsInAsItsRoleAndOthersKeepTheirs() throws Exception {
    start(false);
    try (Connection before = fixture.connect()) {
      assertThat(user(before)).isEqualTo(reader);
      assertThat(events("connect").getLast().details()).doesNotContainKey("access_window");

      open("apr_window2345ab", Duration.ofMinutes(10));
      try (Connection during = fixture.connect()) {
        assertThat(user(during)).isEqualTo(writer);
        assertThat(events("connect").getLast().details())
            .containsEntry("access_role", "writer")
            .containsEntry("access_window", "apr_window2345ab")
            .containsEntry("upstream_role", writer);
        // The session opened before the window keeps its role.
        assertThat(user(before)).isEqualTo(reader);
      }
    }
  }

  @Test
  void whenTheWindowEndsTheElevatedSessionEndsWhenIdleAndNewOnesAreNormalAgain() throws Exception {
    start(false);
    AccessWindow w = open("apr_window2345cd", Duration.ofMinutes(10));
    try (Connection elevated = fixture.connect();
        Statement s = elevated.createStatement()) {
      assertThat(user(elevated)).isEqualTo(writer);
      s.execute("BEGIN");
      windows.open.remove(w.id()); // withdrawn early
      Thread.sleep(CredentialExpiry.WINDOW_POLL.toMillis() + 700);
      // Inside a transaction: allowed to finish.
      s.execute("SELECT 1");
      s.execute("COMMIT");
      awaitClosed(elevated);
      assertThatThrownBy(() -> user(elevated)).isInstanceOf(SQLException.class);
    }
    assertThat(events("expire"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.details())
                    .containsEntry("access_window", w.id())
                    .containsEntry("role", "writer")
                    .containsEntry("idle", "true"));
    try (Connection after = fixture.connect()) {
      assertThat(user(after)).isEqualTo(reader);
    }
  }

  @Test
  void theClientIsToldTheWindowEndedAndThatReconnectingGivesTheNormalRole() throws Exception {
    start(false);
    open("apr_window2345ef", Duration.ofMillis(1500));
    try (Connection elevated = fixture.connect()) {
      assertThat(user(elevated)).isEqualTo(writer);
      Thread.sleep(1500 + CredentialExpiry.WINDOW_POLL.toMillis() + 700);
      assertThatThrownBy(() -> user(elevated))
          .isInstanceOfSatisfying(
              SQLException.class,
              e ->
                  assertThat(e.getMessage() + " " + causes(e))
                      .contains("access window for role writer")
                      .contains("continue as your normal role"));
    }
  }

  @Test
  void aPooledConnectionNeverCrossesRoles() throws Exception {
    start(true);
    AccessWindow w = open("apr_window2345gh", Duration.ofMinutes(10));
    try (Connection elevated = fixture.connect()) {
      assertThat(user(elevated)).isEqualTo(writer);
    }
    awaitParked(1);
    windows.open.remove(w.id());
    try (Connection normal = fixture.connect()) {
      assertThat(user(normal)).isEqualTo(reader);
    }
    // A new window, even for the same role, does not reuse the old window's connection.
    open("apr_window2345ij", Duration.ofMinutes(10));
    try (Connection again = fixture.connect()) {
      assertThat(user(again)).isEqualTo(writer);
    }
    assertThat(fixture.proxy.parkedUpstreamConnections()).isGreaterThanOrEqualTo(2);
  }

  private void awaitParked(int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline && fixture.proxy.parkedUpstreamConnections() < n) {
      Thread.sleep(20);
    }
    assertThat(fixture.proxy.parkedUpstreamConnections()).isGreaterThanOrEqualTo(n);
  }

  private static String causes(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      out.append(t.getMessage()).append(' ');
    }
    return out.toString();
  }

  /** Waits (up to 10 s) until the server side has closed the connection. */
  private static void awaitClosed(Connection c) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline && c.isValid(1)) {
      Thread.sleep(100);
    }
  }
}
