package dev.warden.server.datamap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.warden.core.environment.Environment;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.statement.TableRef;
import dev.warden.server.config.DataMapConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How data maps follow a database: rebuilt when told, when polled, when a result names an unknown
 * relation; within their sampling budget; failing clearly while the upstream is unreachable.
 */
class DataMapRefreshTest {
  private static final String ENV = "test";
  private TestDatabase db;

  @BeforeEach
  void create() throws SQLException {
    db = TestDatabase.create("warden_dmr");
    db.execute("CREATE TABLE people (id integer, email text)");
  }

  @AfterEach
  void drop() throws SQLException {
    db.close();
  }

  private static Environment superuser() {
    return TestDatabase.environment(ENV, "postgres", "", 5432);
  }

  private static DataMapConfig settings(Duration refresh, int maxSampled) {
    return new DataMapConfig(refresh, 200, maxSampled, Duration.ofSeconds(2));
  }

  private static boolean has(DataMap map, String table) {
    return !map.relationsNamed(new TableRef("public", table)).isEmpty();
  }

  private static DataMap await(PostgresDataMaps maps, String database, Predicate<DataMap> until)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      Optional<DataMap> m = maps.current(ENV, database);
      if (m.isPresent() && until.test(m.get())) {
        return m.get();
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the map never changed as expected");
  }

  @Test
  void schemaChangedRebuildsAndReadyWaitsForTheRebuild() throws Exception {
    try (PostgresDataMaps maps =
        new PostgresDataMaps(
            List.of(superuser()), settings(Duration.ofHours(1), 100), Clock.systemUTC())) {
      DataMap first = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
      assertThat(first.version()).isEqualTo(1);
      assertThat(has(first, "later")).isFalse();
      db.execute("CREATE TABLE later (id integer, phone_number text)");
      // Until told, the map stays as it was.
      assertThat(maps.ready(ENV, db.name).get(1, TimeUnit.SECONDS)).isSameAs(first);
      maps.schemaChanged(ENV, db.name);
      DataMap second = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
      assertThat(second.version()).isEqualTo(2);
      assertThat(has(second, "later")).isTrue();
      MappedColumn phone =
          second
              .relationsNamed(new TableRef("public", "later"))
              .getFirst()
              .column("phone_number")
              .orElseThrow();
      assertThat(phone.kind()).contains(DataKind.PHONE);
      assertThat(maps.current(ENV, db.name)).containsSame(second);
    }
  }

  @Test
  void thePollSeesChangesMadeAroundWarden() throws Exception {
    try (PostgresDataMaps maps =
        new PostgresDataMaps(
            List.of(superuser()), settings(Duration.ofSeconds(1), 100), Clock.systemUTC())) {
      DataMap first = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
      db.execute("CREATE TABLE around (id integer, iban text)");
      DataMap created = await(maps, db.name, m -> has(m, "around"));
      assertThat(created.version()).isGreaterThan(first.version());
      // Altering a column (same relations) is a change too.
      db.execute("ALTER TABLE around RENAME COLUMN iban TO card_number");
      DataMap altered =
          await(
              maps,
              db.name,
              m ->
                  m.relationsNamed(new TableRef("public", "around"))
                      .getFirst()
                      .column("card_number")
                      .isPresent());
      assertThat(
              altered
                  .relationsNamed(new TableRef("public", "around"))
                  .getFirst()
                  .column("card_number")
                  .orElseThrow()
                  .kind())
          .contains(DataKind.PAYMENT_CARD);
      // And so is a comment.
      db.execute("COMMENT ON COLUMN people.id IS 'the customer''s national id number'");
      await(
          maps,
          db.name,
          m ->
              m.relationsNamed(new TableRef("public", "people"))
                  .getFirst()
                  .column("id")
                  .orElseThrow()
                  .sensitive());
      // With nothing changed, polls do not rebuild.
      long version = maps.current(ENV, db.name).orElseThrow().version();
      Thread.sleep(2500);
      assertThat(maps.current(ENV, db.name).orElseThrow().version()).isEqualTo(version);
    }
  }

  @Test
  void anUnknownRelationTriggersOneRebuildASecondWithoutMakingReadyWait() throws Exception {
    try (PostgresDataMaps maps =
        new PostgresDataMaps(
            List.of(superuser()), settings(Duration.ofHours(1), 100), Clock.systemUTC())) {
      DataMap first = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
      db.execute("CREATE TABLE fresh (id integer)");
      for (int i = 0; i < 20; i++) {
        maps.unknownRelation(ENV, db.name, 424242);
        // The current map is still usable while the rebuild runs.
        CompletableFuture<DataMap> ready = maps.ready(ENV, db.name);
        assertThat(ready).isDone();
      }
      DataMap second = await(maps, db.name, m -> has(m, "fresh"));
      Thread.sleep(500);
      assertThat(maps.current(ENV, db.name).orElseThrow().version())
          .isEqualTo(second.version())
          .isEqualTo(first.version() + 1);
      Thread.sleep(600);
      db.execute("CREATE TABLE fresher (id integer)");
      maps.unknownRelation(ENV, db.name, 434343);
      DataMap third = await(maps, db.name, m -> has(m, "fresher"));
      assertThat(third.version()).isEqualTo(first.version() + 2);
    }
  }

  @Test
  void samplingStaysWithinItsBudgetAndLaterBuildsSampleTheRest() throws Exception {
    for (int i = 1; i <= 5; i++) {
      db.execute(
          "CREATE TABLE t"
              + i
              + " (id integer, remark text);"
              + " INSERT INTO t"
              + i
              + " SELECT g, 'r' || g || '@example.com' FROM generate_series(1, 20) g");
    }
    try (PostgresDataMaps maps =
        new PostgresDataMaps(
            List.of(superuser()), settings(Duration.ofHours(1), 2), Clock.systemUTC())) {
      DataMap first = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
      BuildReport report = maps.report(ENV, db.name).orElseThrow();
      assertThat(report.sampledRelations()).isEqualTo(2);
      assertThat(report.samplingQueries()).isEqualTo(2);
      // people's only text column is classified by its name: five candidates, three left.
      assertThat(report.unsampledRelations()).isEqualTo(3);
      assertThat(scannedTables()).isEqualTo(2);
      long classified = sensitiveRemarks(first);
      assertThat(classified).isEqualTo(2);
      MappedColumn unsampled =
          first
              .relationsNamed(new TableRef("public", "t5"))
              .getFirst()
              .column("remark")
              .orElseThrow();
      assertThat(unsampled.detail()).contains("budget of 2 sampled relations");

      maps.schemaChanged(ENV, db.name);
      DataMap second = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
      BuildReport again = maps.report(ENV, db.name).orElseThrow();
      assertThat(again.reusedRelations()).isEqualTo(2);
      assertThat(again.sampledRelations()).isEqualTo(2);
      assertThat(sensitiveRemarks(second)).isEqualTo(4);
      assertThat(scannedTables()).isEqualTo(4);
    }
  }

  private static long sensitiveRemarks(DataMap map) {
    return map.sensitiveColumns().stream()
        .filter(e -> e.getValue().name().equals("remark"))
        .count();
  }

  /**
   * How many of the tables t1..t5 the database saw scanned: statistics reach the shared counters
   * when the data map's connection closes, so wait until they settle.
   */
  private int scannedTables() throws Exception {
    int last = -1;
    int stable = 0;
    for (int i = 0; i < 100 && stable < 5; i++) {
      Thread.sleep(100);
      int now;
      try (Connection c = db.connect();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(*) FROM pg_stat_user_tables"
                      + " WHERE relname ~ '^t[1-5]$' AND seq_scan > 0")) {
        rs.next();
        now = rs.getInt(1);
      }
      stable = now == last ? stable + 1 : 0;
      last = now;
    }
    return last;
  }

  @Test
  void aTableLockedByAMigrationIsSkippedNotWaitedFor() throws Exception {
    db.execute(
        "CREATE TABLE locked (id integer, remark text);"
            + " INSERT INTO locked SELECT g, 'l' || g || '@example.com' FROM generate_series(1, 9) g");
    try (Connection migration = db.connect();
        Statement s = migration.createStatement()) {
      migration.setAutoCommit(false);
      s.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
      DataMapConfig settings =
          new DataMapConfig(Duration.ofHours(1), 200, 100, Duration.ofMillis(300));
      try (PostgresDataMaps maps =
          new PostgresDataMaps(List.of(superuser()), settings, Clock.systemUTC())) {
        long started = System.nanoTime();
        DataMap map = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .isLessThan(Duration.ofSeconds(10));
        MappedColumn remark =
            map.relationsNamed(new TableRef("public", "locked"))
                .getFirst()
                .column("remark")
                .orElseThrow();
        assertThat(remark.kind()).isEmpty();
        assertThat(remark.detail()).contains("not sampled: lock timeout");
        assertThat(maps.report(ENV, db.name).orElseThrow().skippedRelations()).isEqualTo(1);
      }
      migration.rollback();
    }
  }

  @Test
  void anUnreachableUpstreamFailsReadyClearlyAndALaterReadyRetries() throws Exception {
    int port = Forwarder.freePort();
    Environment env = TestDatabase.environment(ENV, "postgres", "", port);
    try (PostgresDataMaps maps =
        new PostgresDataMaps(List.of(env), settings(Duration.ofHours(1), 100), Clock.systemUTC())) {
      Throwable failure = catchThrowable(() -> maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class);
      assertThat(failure.getCause()).isInstanceOf(DataMapException.class);
      assertThat(failure.getCause().getMessage())
          .contains("database '" + db.name + "'")
          .contains("environment '" + ENV + "'")
          .contains("127.0.0.1:" + port)
          .contains("cannot be reached");
      assertThat(maps.current(ENV, db.name)).isEmpty();
      // Asked again at once (the next statement), it answers with the failure rather than wait for
      // another attempt: sessions go on, masking everything, instead of stalling statement by
      // statement.
      CompletableFuture<DataMap> again = maps.ready(ENV, db.name);
      assertThat(again).isCompletedExceptionally();
      try (Forwarder forwarder = Forwarder.start(port, 5432)) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        DataMap map = null;
        while (map == null && System.nanoTime() < deadline) {
          try {
            map = maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS);
          } catch (ExecutionException e) {
            Thread.sleep(200); // within RETRY_AFTER of the failure
          }
        }
        assertThat(map).isNotNull();
        assertThat(has(map, "people")).isTrue();
      }
    }
  }

  @Test
  void refusedCredentialsFailWithTheReason() throws Exception {
    // This machine's server trusts local connections, so an unknown role is the refusal to test.
    Environment env = TestDatabase.environment(ENV, db.role + "_nobody", "not-the-password", 5432);
    try (PostgresDataMaps maps =
        new PostgresDataMaps(List.of(env), settings(Duration.ofHours(1), 100), Clock.systemUTC())) {
      Throwable failure = catchThrowable(() -> maps.ready(ENV, db.name).get(30, TimeUnit.SECONDS));
      assertThat(failure.getCause().getMessage())
          .contains("refused Warden's credentials")
          .contains("role \"" + db.role + "_nobody\" does not exist")
          .doesNotContain("not-the-password");
    }
  }
}
