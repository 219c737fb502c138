package dev.warden.server.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * THREATS M15, the inference side channel, measured: a masked column still answers questions about
 * itself through predicates. A scripted blind extraction (a binary search on the length, then on
 * each character's code, one {@code count(*)} per step) recovers an e-mail address the restricted
 * identity only ever sees masked, when policy allows predicates on masked columns ({@code
 * deny_inference: false}), and the number of queries it needs is printed for the documentation.
 * With {@code deny_inference: true} the first probe is refused.
 */
class InferenceTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir static Path dir;

  private static MaskingFixture fixture;

  @BeforeAll
  static void seed() throws SQLException {
    fixture = MaskingFixture.create("warden_inference_" + MaskingFixture.suffix(RANDOM), RANDOM);
  }

  @AfterAll
  static void drop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** Asks questions about user 1's e-mail, counting them. */
  private static final class Oracle {
    private final Connection connection;
    private int queries;

    Oracle(Connection connection) {
      this.connection = connection;
    }

    boolean holds(String predicate, int... arguments) throws SQLException {
      queries++;
      try (PreparedStatement ps =
          connection.prepareStatement("SELECT count(*) FROM users WHERE id = 1 AND " + predicate)) {
        for (int i = 0; i < arguments.length; i++) {
          ps.setInt(i + 1, arguments[i]);
        }
        try (ResultSet r = ps.executeQuery()) {
          r.next();
          return r.getLong(1) > 0;
        }
      }
    }

    /** The largest value in [low, high] for which {@code above(v - 1)} holds. */
    int search(String predicate, int position, int low, int high) throws SQLException {
      while (low < high) {
        int middle = (low + high + 1) / 2;
        boolean greaterOrEqual =
            position > 0 ? holds(predicate, position, middle - 1) : holds(predicate, middle - 1);
        if (greaterOrEqual) {
          low = middle;
        } else {
          high = middle - 1;
        }
      }
      return low;
    }

    String extract() throws SQLException {
      int length = search("length(email) > ?", 0, 0, 256);
      StringBuilder value = new StringBuilder();
      for (int i = 1; i <= length; i++) {
        value.append((char) search("ascii(substr(email, ?, 1)) > ?", i, 0, 127));
      }
      return value.toString();
    }
  }

  @Test
  void withInferenceAllowedABlindSearchRecoversAMaskedEmail() throws Exception {
    String email = fixture.canary("users#1.email").value();
    try (MaskingServer warden =
            MaskingServer.start(fixture, dir.resolve("allowed"), RANDOM, false);
        JdbcCaseSession s =
            JdbcCaseSession.open(Client.JDBC_EXTENDED, warden.restricted(warden.relay()))) {
      Oracle oracle = new Oracle(s.connection());
      String recovered = oracle.extract();
      System.out.printf(
          "%nM15: a blind extraction recovered a %d-character e-mail in %d queries"
              + " (deny_inference: false)%n",
          email.length(), oracle.queries);
      assertThat(recovered).isEqualTo(email);
      assertThat(oracle.queries).isBetween(email.length(), 10 * (email.length() + 1));
      try (var st = s.connection().createStatement();
          ResultSet r = st.executeQuery("SELECT email FROM users WHERE id = 1")) {
        r.next();
        assertThat(r.getString(1)).as("the column is masked").isNotEqualTo(email);
      }
    }
  }

  @Test
  void withInferenceDeniedTheFirstProbeIsRefused() throws Exception {
    try (MaskingServer warden = MaskingServer.start(fixture, dir.resolve("denied"), RANDOM, true);
        JdbcCaseSession s =
            JdbcCaseSession.open(Client.JDBC_EXTENDED, warden.restricted(warden.relay()))) {
      Oracle oracle = new Oracle(s.connection());
      assertThatThrownBy(oracle::extract)
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("Warden refused");
              });
      assertThat(oracle.queries).as("queries sent before the refusal").isEqualTo(1);
      System.out.printf(
          "%nM15: with deny_inference: true the blind extraction stopped at query 1 (42501)%n");
      try (var st = s.connection().createStatement();
          ResultSet r = st.executeQuery("SELECT id, city FROM users WHERE id = 1")) {
        assertThat(r.next())
            .as("reads that filter on columns that are not masked still run")
            .isTrue();
      }
    }
  }
}
