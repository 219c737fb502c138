package dev.warden.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.store.ApprovalStoreContract;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The approval store contract on the SQLite store, and what is particular to it. */
class EmbeddedApprovalStoreTest extends ApprovalStoreContract {
  @TempDir Path dataDir;

  @Override
  protected Handle openHandle() {
    EmbeddedStore store = EmbeddedStore.open(dataDir);
    return new Handle() {
      @Override
      public ApprovalStore approvals() {
        return store.approvals();
      }

      @Override
      public void close() {
        store.close();
      }
    };
  }

  private Connection jdbc() throws Exception {
    return DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve(EmbeddedStore.FILE_NAME));
  }

  @Test
  void aTimeBeyondTheYear9999IsRefusedBeforeAnythingIsWritten() {
    ApprovalRequest far =
        new ApprovalRequest(
            "apr_far12345abcd",
            "alice",
            Set.of(),
            "p",
            "app",
            "s",
            "f",
            "b",
            "r",
            "w",
            Optional.empty(),
            OptionalLong.empty(),
            ApprovalRequirement.DEFAULT,
            T0,
            Instant.parse("+10000-01-01T00:00:00Z"),
            Status.PENDING,
            List.of(),
            Optional.empty());
    try (Handle h = openHandle()) {
      assertThatThrownBy(() -> h.approvals().create(far))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("outside the years 0 to 9999");
      assertThat(h.approvals().find(far.id())).isEmpty();
    }
  }

  @Test
  void timesAreStoredFixedWidthSoTextOrderIsTimeOrder() throws Exception {
    try (Handle h = openHandle()) {
      h.approvals().create(request("apr_time2345abcd", "alice", "p", "b", T0));
    }
    try (Connection c = jdbc();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT created, expires, version FROM approvals")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("2026-03-04T10:00:00.000000000Z");
      assertThat(rs.getString(2)).isEqualTo("2026-03-04T11:00:00.000000000Z");
      assertThat(rs.getLong(3)).isEqualTo(1);
    }
  }

  @Test
  void everyChangeBumpsTheVersion() throws Exception {
    ApprovalRequest r = request("apr_vers2345abcd", "alice", "p", "b", T0);
    try (Handle h = openHandle()) {
      h.approvals().create(r);
      ApprovalRequest approved = with(r, Status.APPROVED, List.of(), Optional.empty());
      h.approvals().replace(r, approved);
      h.approvals().replace(approved, with(approved, Status.USED, List.of(), Optional.of(T0)));
    }
    try (Connection c = jdbc();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version, status, used FROM approvals")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isEqualTo(3);
      assertThat(rs.getString(2)).isEqualTo("USED");
      assertThat(rs.getString(3)).isEqualTo("2026-03-04T10:00:00.000000000Z");
    }
  }

  @Test
  void aCorruptRowIsRefusedNotGuessed() throws Exception {
    try (Handle h = openHandle()) {
      h.approvals().create(request("apr_bad12345abcd", "alice", "p", "b", T0));
      h.approvals().create(request("apr_bad22345abcd", "alice", "p", "b", T0));
    }
    try (Connection c = jdbc();
        PreparedStatement a =
            c.prepareStatement("UPDATE approvals SET reviews = ? WHERE id = 'apr_bad12345abcd'");
        PreparedStatement b =
            c.prepareStatement(
                "UPDATE approvals SET requirement = ? WHERE id = 'apr_bad22345abcd'")) {
      a.setString(1, "[{\"reviewer\":\"bob\",\"approve\":\"yes\"}]");
      a.executeUpdate();
      b.setString(1, "{\"approverGroups\":[\"approvers\"],\"minApprovals\":\"1\"}");
      b.executeUpdate();
    }
    try (Handle h = openHandle()) {
      assertThatThrownBy(() -> h.approvals().find("apr_bad12345abcd"))
          .isInstanceOf(StoreException.class)
          .hasMessage("the approvals table holds a corrupt row for apr_bad12345abcd");
      assertThatThrownBy(() -> h.approvals().find("apr_bad22345abcd"))
          .isInstanceOf(StoreException.class)
          .hasMessage("the approvals table holds a corrupt row for apr_bad22345abcd");
    }
  }

  /** The schema version before the approvals table existed. */
  private static final int APPROVALS_VERSION_MINUS_ONE = 3;

  /** The approvals table as schema version 4 made it, before access requests. */
  private static final String APPROVALS_V4 =
      """
      CREATE TABLE approvals (
        id               TEXT    NOT NULL PRIMARY KEY,
        requester        TEXT    NOT NULL,
        requester_groups TEXT    NOT NULL,
        environment      TEXT    NOT NULL,
        database_name    TEXT    NOT NULL,
        statement        TEXT    NOT NULL,
        fingerprint      TEXT    NOT NULL,
        binding          TEXT    NOT NULL,
        rule             TEXT    NOT NULL,
        why              TEXT    NOT NULL,
        reason           TEXT,
        row_count        INTEGER CHECK (row_count >= 0),
        requirement      TEXT    NOT NULL,
        created          TEXT    NOT NULL,
        expires          TEXT    NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN
          ('PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'USED', 'CANCELLED')),
        reviews          TEXT    NOT NULL,
        used             TEXT,
        on_behalf_of     TEXT,
        version          INTEGER NOT NULL
      ) STRICT
      """;

  @Test
  void aStoreOfSchemaVersion4KeepsItsRequestsAsStatementsAndTakesAccessRequests() throws Exception {
    ApprovalRequest old = request("apr_old12345abcd", "alice", "production", "b", T0);
    try (Handle h = openHandle()) {
      h.approvals().create(old);
    }
    // Back to version 4, as the Warden before access requests left it, with the row it wrote.
    try (Connection c = jdbc();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE approvals_copy AS SELECT * FROM approvals");
      s.execute("DROP TABLE approvals");
      s.execute(APPROVALS_V4);
      s.execute(
          "INSERT INTO approvals SELECT id, requester, requester_groups, environment,"
              + " database_name, statement, fingerprint, binding, rule, why, reason, row_count,"
              + " requirement, created, expires, status, reviews, used, on_behalf_of, version"
              + " FROM approvals_copy");
      s.execute("DROP TABLE approvals_copy");
      s.execute("CREATE INDEX approvals_by_binding ON approvals (requester, environment, binding)");
      s.execute("PRAGMA user_version = 4");
    }

    try (Handle h = openHandle()) {
      assertThat(h.approvals().find(old.id())).contains(old);
      assertThat(h.approvals().find(old.id()).orElseThrow().kind())
          .isEqualTo(ApprovalRequest.Kind.STATEMENT);
      ApprovalRequest asked = access("apr_new12345abcd", "alice", "production", "writer", T0);
      h.approvals().create(asked);
      ApprovalRequest open = opened(asked, T0.plusSeconds(5));
      assertThat(h.approvals().replace(asked, open)).isTrue();
      assertThat(
              h.approvals()
                  .openWindows(Optional.of("alice"), Optional.of("production"), T0.plusSeconds(6)))
          .containsExactly(open);
    }
    try (Connection c = jdbc();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(Schema.CURRENT_VERSION).isEqualTo(5);
    }
  }

  @Test
  void anAccessRowWithoutItsRoleIsRefusedNotGuessed() throws Exception {
    try (Handle h = openHandle()) {
      h.approvals().create(access("apr_bad22345abcd", "alice", "production", "writer", T0));
    }
    try (Connection c = jdbc();
        Statement s = c.createStatement()) {
      s.execute("UPDATE approvals SET access_role = NULL");
    }
    try (Handle h = openHandle()) {
      assertThatThrownBy(() -> h.approvals().find("apr_bad22345abcd"))
          .isInstanceOf(StoreException.class)
          .hasMessage("the approvals table holds a corrupt row for apr_bad22345abcd");
    }
  }

  @Test
  void aStoreFromBeforeApprovalsGainsTheTableAndKeepsItsUsers() throws Exception {
    SecureRandom random = new SecureRandom();
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store
          .users()
          .put(
              new LocalUser(
                  "alice",
                  Set.of("dev"),
                  ScramCredentials.derive(Secret.of("pw"), random, 4096),
                  Instant.parse("2026-01-01T00:00:00Z")));
    }
    // Back to the schema before approvals existed, as an older Warden left it.
    try (Connection c = jdbc();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE approvals");
      s.execute("PRAGMA user_version = " + APPROVALS_VERSION_MINUS_ONE);
    }

    try (Handle h = openHandle()) {
      ApprovalRequest r = request("apr_migr2345abcd", "alice", "p", "b", T0);
      h.approvals().create(r);
      assertThat(h.approvals().find(r.id())).contains(r);
    }
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      assertThat(store.users().find("alice")).isPresent();
    }
    try (Connection c = jdbc();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(Schema.CURRENT_VERSION);
    }
  }
}
