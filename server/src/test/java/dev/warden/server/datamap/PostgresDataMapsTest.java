package dev.warden.server.datamap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.Environment;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.Detectors;
import dev.warden.core.masking.Finding;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.masking.MappedRelation;
import dev.warden.core.statement.TableRef;
import dev.warden.server.config.DataMapConfig;
import dev.warden.sql.postgres.PostgresAnalyzer;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Data maps of a database on the PostgreSQL server of this machine, built as a restricted role that
 * cannot read one table: names, types and comments, sampled content, views, materialised views and
 * partitions.
 */
class PostgresDataMapsTest {
  private static final String ENV = "test";
  private static TestDatabase db;
  private static PostgresDataMaps maps;
  private static DataMap map;
  private static DataMap analysed;

  @BeforeAll
  static void build() throws Exception {
    db = TestDatabase.create("warden_dm");
    db.execute(
        """
        CREATE TABLE customers (
          id integer PRIMARY KEY,
          email text,
          full_name text,
          seen_from inet,
          tax_ref text,
          notes text,
          contact varchar(40),
          misc text,
          mixed text,
          email_verified boolean,
          created_at timestamptz
        );
        COMMENT ON COLUMN customers.tax_ref IS 'the customer''s social security number';
        INSERT INTO customers
          SELECT i,
                 'c' || i || '@example.com',
                 'Person ' || i,
                 '10.0.0.1',
                 NULL,
                 'note' || i || '.writer@mail.example.org',
                 '+1 (415) 555-' || (2000 + i),
                 (ARRAY['apple', 'river', 'stone', 'cloud', 'lamp'])[1 + i % 5] || ' ' || i,
                 CASE WHEN i % 4 = 0 THEN 'x' || i || '@example.net' ELSE 'plain words ' || i END,
                 true,
                 now()
          FROM generate_series(1, 60) i;
        CREATE TABLE documents (id integer, body text, data jsonb, attachment bytea, tags text[],
          remark text);
        INSERT INTO documents
          SELECT i,
                 'Please erase my account. Name: Person ' || i || ', e-mail p' || i
                   || '@example.com. Thanks',
                 jsonb_build_object('contact', jsonb_build_object('phone', '+1 415 555 '
                   || (1000 + i)), 'tier', 'gold'),
                 convert_to('From: a' || i || '@example.org' || chr(10) || 'Body', 'UTF8'),
                 ARRAY['vip', 't' || i || '@example.net'],
                 'the parcel was late ' || i || ' days'
          FROM generate_series(1, 40) i;
        CREATE TABLE hidden (id integer, notes text);
        INSERT INTO hidden SELECT i, 'h' || i || '@example.com' FROM generate_series(1, 10) i;
        CREATE VIEW v_contacts AS SELECT id, email AS contact_point, notes AS memo, misc FROM customers;
        CREATE VIEW v_computed AS SELECT id, lower(email) AS lowered FROM customers;
        CREATE VIEW v_over AS SELECT contact_point AS reach, misc FROM v_contacts;
        CREATE VIEW v_whole AS SELECT c.id, row_to_json(c) AS doc FROM customers c;
        CREATE VIEW v_plain AS SELECT id, misc FROM customers;
        CREATE VIEW v_mixed AS SELECT id, email, upper(misc) AS shout FROM customers;
        CREATE MATERIALIZED VIEW mv AS SELECT id, email AS e1, contact AS c1, misc FROM customers;
        CREATE TABLE events (id integer, at date, payload text) PARTITION BY RANGE (at);
        CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO events SELECT i, date '2024-06-01' + i * 2, 'ev' || i || '@example.com'
          FROM generate_series(1, 200) i;
        """);
    db.execute(
        "GRANT SELECT ON customers, documents, v_contacts, v_computed, v_over, v_whole, v_plain, v_mixed, mv,"
            + " events,"
            + " events_2024, events_2025 TO "
            + db.role);
    maps =
        new PostgresDataMaps(
            List.of(db.restricted(ENV)), DataMapConfig.defaults(), Clock.systemUTC());
    map = maps.ready(ENV, db.name).get(60, TimeUnit.SECONDS);
    try (PostgresDataMaps withAnalyzer =
        new PostgresDataMaps(
            List.of(db.restricted(ENV)),
            DataMapConfig.defaults(),
            Detectors::standard,
            Optional.of(new PostgresAnalyzer()),
            Clock.systemUTC())) {
      analysed = withAnalyzer.ready(ENV, db.name).get(60, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void drop() throws SQLException {
    try {
      if (maps != null) {
        maps.close();
      }
    } finally {
      if (db != null) {
        db.close();
      }
    }
  }

  private static MappedColumn column(String relation, String column) {
    List<MappedRelation> found = map.relationsNamed(new TableRef("public", relation));
    assertThat(found).as(relation).hasSize(1);
    return found.getFirst().column(column).orElseThrow(() -> new AssertionError(column));
  }

  private static void assertKind(
      String relation, String column, DataKind kind, Finding finding, String detail) {
    MappedColumn c = column(relation, column);
    assertThat(c.kind()).as(relation + "." + column).contains(kind);
    assertThat(c.finding()).as(relation + "." + column).isEqualTo(finding);
    assertThat(c.detail()).as(relation + "." + column).contains(detail);
  }

  private static void assertPlain(String relation, String column) {
    assertThat(column(relation, column).kind())
        .as(relation + "." + column + ": " + column(relation, column).detail())
        .isEmpty();
  }

  @Test
  void namesTypesAndCommentsClassifyColumns() {
    assertKind("customers", "email", DataKind.EMAIL, Finding.NAME, "name 'email'");
    assertKind("customers", "full_name", DataKind.PERSON_NAME, Finding.NAME, "name 'full_name'");
    assertKind("customers", "seen_from", DataKind.IP_ADDRESS, Finding.TYPE, "type inet");
    assertKind(
        "customers", "tax_ref", DataKind.NATIONAL_ID, Finding.COMMENT, "social security number");
    assertPlain("customers", "email_verified");
    assertPlain("customers", "created_at");
    assertPlain("customers", "id");
    MappedColumn contact = column("customers", "contact");
    assertThat(contact.type()).isEqualTo("character varying(40)");
    assertThat(contact.number()).isEqualTo(7);
    assertThat(map.relationsNamed(new TableRef("public", "customers")).getFirst().type())
        .isEqualTo(MappedRelation.Type.TABLE);
  }

  @Test
  void sampledValuesClassifyTextColumnsWithClearMajorities() {
    assertKind("customers", "notes", DataKind.EMAIL, Finding.CONTENT, "60 of 60 sampled values");
    assertKind("customers", "contact", DataKind.PHONE, Finding.CONTENT, "of 60 sampled values");
    assertPlain("customers", "misc");
    assertThat(column("customers", "misc").detail()).contains("none recognised");
    // A quarter of the values are e-mail addresses: the column holds them, so it is masked.
    assertKind(
        "customers",
        "mixed",
        DataKind.EMAIL,
        Finding.CONTENT,
        "15 of 60 sampled values are or hold");
  }

  @Test
  void valuesHoldingSensitiveDataInsideThemClassifyTheirColumn() {
    assertKind("documents", "body", DataKind.EMAIL, Finding.CONTENT, "are or hold email");
    assertKind("documents", "data", DataKind.PHONE, Finding.CONTENT, "are or hold phone");
    assertKind("documents", "attachment", DataKind.EMAIL, Finding.CONTENT, "are or hold email");
    assertKind("documents", "tags", DataKind.EMAIL, Finding.CONTENT, "are or hold email");
    assertPlain("documents", "remark");
  }

  @Test
  void aTableTheRoleCannotReadIsMappedWithoutSamples() {
    assertPlain("hidden", "notes");
    assertThat(column("hidden", "notes").detail()).contains("not sampled: permission denied");
    assertThat(maps.report(ENV, db.name).orElseThrow().skippedRelations()).isEqualTo(1);
  }

  @Test
  void viewColumnsInheritTheKindOfWhatTheyShowUnderAnyName() {
    assertKind(
        "v_contacts",
        "contact_point",
        DataKind.EMAIL,
        Finding.LINEAGE,
        "view over public.customers.email");
    assertKind("v_contacts", "memo", DataKind.EMAIL, Finding.LINEAGE, "public.customers.notes");
    assertPlain("v_contacts", "misc");
    assertPlain("v_contacts", "id");
    assertPlain("v_plain", "misc");
    assertThat(map.relationsNamed(new TableRef("public", "v_plain")).getFirst().type())
        .isEqualTo(MappedRelation.Type.VIEW);
  }

  @Test
  void computedViewColumnsFedBySensitiveColumnsAreSensitive() {
    assertKind(
        "v_computed",
        "lowered",
        DataKind.EMAIL,
        Finding.LINEAGE,
        "computed from public.customers.email");
    assertPlain("v_computed", "id");
    // A whole-row reference records no column dependency; every sensitive column feeds it.
    MappedColumn doc = column("v_whole", "doc");
    assertThat(doc.sensitive()).isTrue();
    assertThat(doc.finding()).isEqualTo(Finding.LINEAGE);
    assertThat(doc.detail()).contains("computed from").contains("public.customers.email");
  }

  @Test
  void withoutAnAnalyserEveryComputedColumnOfAViewReadingASensitiveColumnIsSensitive() {
    // pg_depend records the view's columns, not which computed column uses which: over-marked.
    assertKind(
        "v_mixed",
        "shout",
        DataKind.EMAIL,
        Finding.LINEAGE,
        "computed from public.customers.email");
  }

  @Test
  void withTheAnalyserComputedColumnsAreSensitiveWhenASensitiveColumnReachesThem() {
    DataMap plain = map;
    try {
      map = analysed;
      assertKind("v_mixed", "email", DataKind.EMAIL, Finding.NAME, "name 'email'");
      assertKind(
          "v_computed",
          "lowered",
          DataKind.EMAIL,
          Finding.LINEAGE,
          "computed from public.customers.email");
      assertThat(column("v_whole", "doc").sensitive()).isTrue();
      assertKind(
          "v_contacts",
          "contact_point",
          DataKind.EMAIL,
          Finding.LINEAGE,
          "view over public.customers.email");
      assertKind(
          "v_over",
          "reach",
          DataKind.EMAIL,
          Finding.LINEAGE,
          "view over public.v_contacts.contact_point");
    } finally {
      map = plain;
    }
    // Only misc, which holds nothing known, reaches a computed column of v_mixed (email is shown
    // as it is): shout is not marked this time. The analyser tells computed from shown columns
    // per view, not per column: had v_mixed also computed lower(email), shout would be marked.
    assertThat(
            analysed
                .relationsNamed(new TableRef("public", "v_mixed"))
                .getFirst()
                .column("shout")
                .orElseThrow()
                .kind())
        .isEmpty();
  }

  @Test
  void aViewOverAViewIsResolvedThroughIt() {
    assertKind(
        "v_over",
        "reach",
        DataKind.EMAIL,
        Finding.LINEAGE,
        "view over public.v_contacts.contact_point");
    assertPlain("v_over", "misc");
  }

  @Test
  void materialisedViewsFollowTheirDefinition() {
    assertThat(map.relationsNamed(new TableRef("public", "mv")).getFirst().type())
        .isEqualTo(MappedRelation.Type.MATERIALIZED_VIEW);
    assertKind("mv", "e1", DataKind.EMAIL, Finding.LINEAGE, "view over public.customers.email");
    assertKind("mv", "c1", DataKind.PHONE, Finding.LINEAGE, "view over public.customers.contact");
    assertPlain("mv", "misc");
  }

  @Test
  void partitionsTakeWhatTheirPartitionedTableWasFoundToHold() {
    assertThat(map.relationsNamed(new TableRef("public", "events")).getFirst().type())
        .isEqualTo(MappedRelation.Type.PARTITIONED_TABLE);
    assertKind("events", "payload", DataKind.EMAIL, Finding.CONTENT, "sampled values");
    assertKind(
        "events_2025",
        "payload",
        DataKind.EMAIL,
        Finding.CONTENT,
        "as its partitioned table public.events");
  }

  @Test
  void theMapIsSharedAndCurrent() throws Exception {
    assertThat(maps.current(ENV, db.name)).containsSame(map);
    assertThat(maps.ready(ENV, db.name).get(1, TimeUnit.SECONDS)).isSameAs(map);
    assertThat(map.environment()).isEqualTo(ENV);
    assertThat(map.database()).isEqualTo(db.name);
    assertThat(map.version()).isEqualTo(1);
    assertThat(maps.current(ENV, "no_such_database_here")).isEmpty();
  }

  @Test
  void anUnknownEnvironmentFailsClearly() {
    Optional<Throwable> failure =
        maps.ready("nowhere", db.name).handle((m, e) -> Optional.ofNullable(e)).join();
    assertThat(failure).isPresent();
    assertThat(failure.get()).isInstanceOf(DataMapException.class);
    assertThat(failure.get().getMessage()).contains("no environment named 'nowhere'");
  }

  static Environment superuser(String name) {
    return TestDatabase.environment(name, "postgres", "", 5432);
  }

  static DataMapConfig settings(Duration refresh, int maxSampled) {
    return new DataMapConfig(refresh, 200, maxSampled, Duration.ofSeconds(2));
  }
}
