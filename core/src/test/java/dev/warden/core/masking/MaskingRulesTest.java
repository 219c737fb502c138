package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.masking.MaskingRules.ColumnOverride;
import dev.warden.core.masking.MaskingRules.Exemption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MaskingRulesTest {
  private static final Instant NOW = Instant.parse("2026-03-02T12:00:00Z");
  private static final Identity ALICE =
      new Identity("alice@corp.example", Set.of("dev", "oncall"), AuthMethod.SCRAM_SHA_256);
  private static final Identity BOB =
      new Identity("bob@corp.example", Set.of("analysts"), AuthMethod.SCRAM_SHA_256);

  private static Optional<SessionMasking> session(MaskingRules rules, Identity who) {
    return rules.forSession(who, "prod", Set.of("production"), NOW);
  }

  @Test
  void theDefaultsMaskEveryoneWithTheDocumentedStrategies() {
    MaskingRules d = MaskingRules.defaults();
    assertThat(d.enabled()).isTrue();
    assertThat(d.enabledFor("anything")).isTrue();
    assertThat(d.denyInference()).isFalse();
    assertThat(d.exemptions()).isEmpty();
    assertThat(d.keyed()).isFalse();
    assertThat(d.unknownStrategy()).isEqualTo(MaskingStrategy.REDACT);
    for (DataKind kind : DataKind.values()) {
      MaskingStrategy expected =
          switch (kind) {
            case EMAIL, PHONE, PAYMENT_CARD, IBAN, DATE_OF_BIRTH -> MaskingStrategy.PARTIAL;
            case PASSWORD -> MaskingStrategy.NULL;
            default -> MaskingStrategy.REDACT;
          };
      assertThat(d.strategy(kind)).as(kind.name()).isEqualTo(expected);
      assertThat(MaskingRules.defaultStrategy(kind)).isEqualTo(expected);
    }
    SessionMasking s = session(d, ALICE).orElseThrow();
    assertThat(s.validUntil()).isEmpty();
    assertThat(s.mask(Optional.of(DataKind.EMAIL)).mask("a@b.example", ValueType.TEXT))
        .isEqualTo("****@b.example");
    assertThat(s.mask(Optional.of(DataKind.PASSWORD)).mask("hunter2", ValueType.TEXT)).isNull();
    assertThat(s.mask(Optional.empty()).mask("x", ValueType.TEXT)).isEqualTo("[masked]");
    assertThat(s.detectors()).containsExactlyInAnyOrderElementsOf(Detectors.standard());
    assertThat(s.detectors().getLast().kind())
        .as("the loosest format last")
        .isEqualTo(DataKind.PHONE);
    assertThat(MaskingRules.builder().build()).isEqualTo(d).hasSameHashCodeAs(d);
  }

  @Test
  void forSessionHandsOutSharedPrecomputedAnswers() {
    MaskingRules rules = MaskingRules.builder().exempt(Exemption.group("dba")).build();
    SessionMasking a = session(rules, ALICE).orElseThrow();
    assertThat(session(rules, BOB).orElseThrow()).isSameAs(a);
    assertThat(a.mask(Optional.of(DataKind.IBAN))).isSameAs(a.mask(Optional.of(DataKind.IBAN)));
  }

  @Test
  void maskingSwitchedOffMasksNobody() {
    MaskingRules off = MaskingRules.builder().enabled(false).build();
    assertThat(session(off, ALICE)).isEmpty();
    assertThat(off.enabledFor("prod")).isFalse();
    assertThat(off.validUntil(ALICE, "prod", Set.of(), NOW)).isEmpty();
  }

  @Test
  void exemptionsByIdentityAndByGroup() {
    MaskingRules rules =
        MaskingRules.builder()
            .exempt(Exemption.identity("alice@corp.example"))
            .exempt(Exemption.group("auditors"))
            .build();
    assertThat(session(rules, ALICE)).isEmpty();
    assertThat(session(rules, BOB)).isPresent();
    Identity auditor = new Identity("carol", Set.of("x", "auditors"), AuthMethod.OIDC);
    assertThat(session(rules, auditor)).isEmpty();
    Identity lookalike = new Identity("Alice@corp.example", Set.of("Auditors"), AuthMethod.OIDC);
    assertThat(session(rules, lookalike)).as("names and groups match exactly").isPresent();
  }

  @ParameterizedTest
  @CsvSource({
    // environments listed, environment, its tag, exempt?
    "'',              prod,    production, true",
    "prod,            prod,    production, true",
    "production,      prod,    production, true",
    "staging,         prod,    production, false",
    "staging;dev,     dev,     '',         true",
  })
  void exemptionsCanBeLimitedToEnvironmentsByNameOrTag(
      String listed, String environment, String tag, boolean exempt) {
    Set<String> environments = listed.isEmpty() ? Set.of() : Set.of(listed.split(";"));
    MaskingRules rules =
        MaskingRules.builder()
            .exempt(Exemption.identity("alice@corp.example").in(environments))
            .build();
    Set<String> tags = tag.isEmpty() ? Set.of() : Set.of(tag);
    assertThat(rules.forSession(ALICE, environment, tags, NOW).isEmpty()).isEqualTo(exempt);
  }

  @Test
  void timeBoxedExemptionsHoldUntilTheirEndAndSayWhen() {
    Instant end = NOW.plusSeconds(3600);
    MaskingRules rules =
        MaskingRules.builder().exempt(Exemption.identity("alice@corp.example").until(end)).build();
    assertThat(rules.forSession(ALICE, "prod", Set.of(), NOW)).isEmpty();
    assertThat(rules.validUntil(ALICE, "prod", Set.of(), NOW)).hasValue(end);
    assertThat(rules.forSession(ALICE, "prod", Set.of(), end.minusNanos(1))).isEmpty();
    SessionMasking after = rules.forSession(ALICE, "prod", Set.of(), end).orElseThrow();
    assertThat(after.validUntil()).isEmpty();
    assertThat(rules.validUntil(ALICE, "prod", Set.of(), end)).isEmpty();
    assertThat(rules.validUntil(BOB, "prod", Set.of(), NOW)).isEmpty();
  }

  @Test
  void anExemptionThatBeginsLaterMakesTheMaskingValidUntilThen() {
    Instant start = NOW.plusSeconds(600);
    Instant laterStart = NOW.plusSeconds(1200);
    MaskingRules rules =
        MaskingRules.builder()
            .exempt(Exemption.group("oncall").from(laterStart).until(laterStart.plusSeconds(60)))
            .exempt(
                Exemption.identity("alice@corp.example").from(start).until(start.plusSeconds(60)))
            .exempt(
                Exemption.identity("alice@corp.example").from(NOW.plusSeconds(5)).in(Set.of("dev")))
            .build();
    SessionMasking masked = session(rules, ALICE).orElseThrow();
    assertThat(masked.validUntil()).hasValue(start);
    assertThat(rules.forSession(ALICE, "prod", Set.of(), start)).isEmpty();
    assertThat(rules.validUntil(ALICE, "prod", Set.of(), start)).hasValue(start.plusSeconds(60));
    assertThat(session(rules, BOB).orElseThrow().validUntil()).isEmpty();
  }

  @Test
  void exemptionsAreCheckedWhenBuilt() {
    assertThatThrownBy(
            () ->
                new Exemption(
                    Optional.of("a"),
                    Optional.of("g"),
                    Optional.empty(),
                    Optional.empty(),
                    Set.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Exemption.identity("a").until(NOW).from(NOW))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void strategiesChosenPerKind() {
    MaskingRules rules =
        MaskingRules.builder()
            .strategy(DataKind.EMAIL, MaskingStrategy.REDACT)
            .unknownStrategy(MaskingStrategy.NULL)
            .build();
    SessionMasking s = session(rules, ALICE).orElseThrow();
    assertThat(s.mask(Optional.of(DataKind.EMAIL)).mask("a@b.example", ValueType.TEXT))
        .isEqualTo("[email]");
    assertThat(s.mask(Optional.empty()).mask("x", ValueType.TEXT)).isNull();
    assertThat(s.mask(Optional.empty()).strategy()).isEqualTo("null");
    assertThat(rules).isNotEqualTo(MaskingRules.defaults());
    assertThat(rules.fingerprint()).isNotEqualTo(MaskingRules.defaults().fingerprint());
  }

  @Test
  void theKeyEnablesTheKeyedStrategiesAndIsNotPolicy() {
    MaskingRules rules =
        MaskingRules.builder().strategy(DataKind.EMAIL, MaskingStrategy.PSEUDONYM).build();
    ColumnMask unkeyed = session(rules, ALICE).orElseThrow().mask(Optional.of(DataKind.EMAIL));
    assertThat(unkeyed.strategy()).isEqualTo("redact");
    MaskingRules keyed = rules.withPseudonymKey(StrategyMaskTest.KEY);
    assertThat(keyed.keyed()).isTrue();
    ColumnMask mask = session(keyed, ALICE).orElseThrow().mask(Optional.of(DataKind.EMAIL));
    assertThat(mask.strategy()).isEqualTo("pseudonym");
    assertThat(mask.mask("a@b.example", ValueType.TEXT)).endsWith("@pseudonym.invalid");
    assertThat(keyed.fingerprint()).isEqualTo(rules.fingerprint());
    assertThat(keyed).isNotEqualTo(rules);
    assertThat(keyed).isEqualTo(rules.withPseudonymKey(StrategyMaskTest.KEY.clone()));
    assertThat(keyed.toString()).doesNotContain("0, 1, 2").contains("keyed");
    assertThatThrownBy(() -> rules.withPseudonymKey(new byte[15]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("16 bytes");
  }

  // ---- overlays --------------------------------------------------------------------------------

  private static MappedColumn column(int n, String name, Optional<DataKind> kind) {
    return new MappedColumn(n, name, "text", kind, Finding.NAME, kind.isPresent() ? "name" : "");
  }

  private static DataMap map(String environment, String database, long version) {
    return DataMap.of(
        environment,
        database,
        version,
        NOW,
        List.of(
            new MappedRelation(
                10,
                "public",
                "users",
                MappedRelation.Type.TABLE,
                List.of(
                    column(1, "id", Optional.empty()),
                    column(2, "email", Optional.of(DataKind.EMAIL)),
                    column(3, "nickname", Optional.empty()))),
            new MappedRelation(
                11,
                "audit",
                "users",
                MappedRelation.Type.TABLE,
                List.of(column(1, "email", Optional.of(DataKind.EMAIL)))),
            new MappedRelation(
                12,
                "public",
                "orders",
                MappedRelation.Type.TABLE,
                List.of(column(1, "note", Optional.empty())))));
  }

  @Test
  void overlaysMarkAndUnmarkColumns() {
    MaskingRules rules =
        MaskingRules.builder()
            .column(
                ColumnOverride.of(
                    "users.nickname",
                    Optional.of(DataKind.PERSON_NAME),
                    Optional.empty(),
                    Optional.empty()))
            .column(
                ColumnOverride.of(
                    "audit.users.email", Optional.empty(), Optional.empty(), Optional.empty()))
            .build();
    DataMap in = map("prod", "app", 1);
    SessionMasking s = session(rules, ALICE).orElseThrow();
    DataMap out = s.overlay(in);
    MappedColumn nickname = out.relation(10).orElseThrow().column("nickname").orElseThrow();
    assertThat(nickname.kind()).hasValue(DataKind.PERSON_NAME);
    assertThat(nickname.finding()).isEqualTo(Finding.POLICY);
    assertThat(nickname.detail()).isEqualTo("marked person_name by policy");
    MappedColumn audit = out.relation(11).orElseThrow().column("email").orElseThrow();
    assertThat(audit.kind()).isEmpty();
    assertThat(audit.finding()).isEqualTo(Finding.POLICY);
    assertThat(audit.detail()).isEqualTo("unmarked by policy");
    assertThat(out.relation(10).orElseThrow().column("email").orElseThrow().kind())
        .as("the schema-qualified unmark leaves public.users alone")
        .hasValue(DataKind.EMAIL);
    assertThat(out.relation(12)).containsSame(in.relation(12).orElseThrow());
    assertThat(out.version()).isEqualTo(1);
    assertThat(rules.overlay(in)).as("cached by version").isSameAs(out);
    DataMap rebuilt = map("prod", "app", 2);
    assertThat(rules.overlay(rebuilt)).isNotSameAs(out).isEqualTo(rules.overlay(rebuilt));
    assertThat(rules.overlay(rebuilt).version()).isEqualTo(2);
  }

  @Test
  void overlaysApplyToTheirEnvironmentAndDatabaseAndTheLastOverrideWins() {
    MaskingRules rules =
        MaskingRules.builder()
            .column(
                ColumnOverride.of(
                    "public.orders.note",
                    Optional.of(DataKind.POSTAL_ADDRESS),
                    Optional.of("prod"),
                    Optional.of("app")))
            .column(
                ColumnOverride.of(
                    "orders.note",
                    Optional.of(DataKind.PHONE),
                    Optional.empty(),
                    Optional.of("app")))
            .column(
                ColumnOverride.of(
                    "orders.note", Optional.empty(), Optional.of("dev"), Optional.empty()))
            .build();
    assertThat(note(rules.overlay(map("prod", "app", 1)))).hasValue(DataKind.PHONE);
    assertThat(note(rules.overlay(map("prod", "other", 1)))).isEmpty();
    assertThat(
            rules
                .overlay(map("prod", "other", 1))
                .relation(12)
                .orElseThrow()
                .columns()
                .get(0)
                .finding())
        .isEqualTo(Finding.NAME);
    DataMap dev = rules.overlay(map("dev", "app", 1));
    assertThat(note(dev)).isEmpty();
    assertThat(dev.relation(12).orElseThrow().columns().get(0).detail())
        .isEqualTo("unmarked by policy");
  }

  private static Optional<DataKind> note(DataMap map) {
    return map.relation(12).orElseThrow().column("note").orElseThrow().kind();
  }

  @Test
  void rulesWithoutOverridesReturnTheMapItself() {
    DataMap in = map("prod", "app", 1);
    assertThat(MaskingRules.defaults().overlay(in)).isSameAs(in);
    MaskingRules elsewhere =
        MaskingRules.builder()
            .column(
                ColumnOverride.of(
                    "users.email", Optional.empty(), Optional.of("dev"), Optional.empty()))
            .build();
    assertThat(elsewhere.overlay(in)).isSameAs(in);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "users.email|||users|email",
        "public.users.email||public|users|email",
        "\"My Schema\".\"Odd.Table\".\"E\"\"mail\"||My Schema|Odd.Table|E\"mail",
        "users.\"Email\"|||users|Email",
      })
  void columnPaths(String path, String none, String schema, String table, String column) {
    ColumnOverride o =
        ColumnOverride.of(path, Optional.empty(), Optional.empty(), Optional.empty());
    assertThat(o.schema()).isEqualTo(Optional.ofNullable(schema));
    assertThat(o.table()).isEqualTo(table);
    assertThat(o.column()).isEqualTo(column);
    assertThat(ColumnOverride.of(o.path(), Optional.empty(), Optional.empty(), Optional.empty()))
        .isEqualTo(o);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "email",
        "a.b.c.d",
        "users.",
        ".email",
        "users..email",
        "\"users.email",
        "us\"ers\".email",
        "users. email"
      })
  void badColumnPathsAreRefused(String path) {
    assertThatThrownBy(
            () -> ColumnOverride.of(path, Optional.empty(), Optional.empty(), Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[schema.]table.column");
  }

  // ---- detectors and the backstop --------------------------------------------------------------

  @Test
  void customDetectorsJoinTheStandardOnes() {
    PatternDetector employee =
        PatternDetector.compile("employee-id", DataKind.NATIONAL_ID, "EMP-\\d{6}");
    MaskingRules rules = MaskingRules.builder().detector(employee).build();
    assertThat(rules.detectors().subList(0, Detectors.standard().size()))
        .containsExactlyInAnyOrderElementsOf(Detectors.standard());
    assertThat(rules.detectors()).endsWith(employee);
    assertThat(rules.customDetectors()).containsExactly(employee);
    SessionMasking s = session(rules, ALICE).orElseThrow();
    assertThat(s.detectors()).isEqualTo(rules.detectors());
    assertThat(s.backstop("EMP-123456"))
        .isNotNull()
        .satisfies(
            m -> {
              assertThat(m.kind()).hasValue(DataKind.NATIONAL_ID);
              assertThat(m.mask("EMP-123456", ValueType.TEXT)).isEqualTo("[national_id]");
            });
    assertThat(session(MaskingRules.defaults(), ALICE).orElseThrow().backstop("EMP-123456"))
        .isNull();
    assertThat(s.scrubText("no such employee: EMP-123456."))
        .isEqualTo("no such employee: [national_id].");
  }

  @Test
  void theBackstopMasksWhatADetectorRecognises() {
    SessionMasking s = session(MaskingRules.defaults(), ALICE).orElseThrow();
    assertThat(s.backstop("alice@example.com").mask("alice@example.com", ValueType.TEXT))
        .isEqualTo("****@example.com");
    assertThat(s.backstop("4111 1111 1111 1111").kind()).hasValue(DataKind.PAYMENT_CARD);
    assertThat(s.backstop("536-22-1234").kind())
        .as("an SSN also reads as a phone number; the stricter kind wins")
        .hasValue(DataKind.NATIONAL_ID);
    assertThat(s.backstop("hello world")).isNull();
    assertThat(s.backstop("")).isNull();
    assertThat(s.backstop(null)).isNull();
    assertThat(s.backstop("a".repeat(Detectors.MAX_VALUE_LENGTH + 1))).isNull();
  }

  @Test
  void denyInferenceIsPassedOn() {
    MaskingRules rules = MaskingRules.builder().denyInference(true).build();
    assertThat(rules.denyInference()).isTrue();
    assertThat(session(rules, ALICE).orElseThrow().denyInference()).isTrue();
    assertThat(session(MaskingRules.defaults(), ALICE).orElseThrow().denyInference()).isFalse();
  }

  @Test
  void kindNamesAreThePolicyFilesSpelling() {
    assertThat(MaskingRules.kindName(DataKind.PAYMENT_CARD)).isEqualTo("payment_card");
    for (DataKind kind : DataKind.values()) {
      assertThat(MaskingRules.kindNamed(MaskingRules.kindName(kind))).hasValue(kind);
    }
    assertThat(MaskingRules.kindNamed("PAYMENT_CARD")).isEmpty();
    assertThat(MaskingStrategy.fromFileName("format_preserving"))
        .hasValue(MaskingStrategy.FORMAT_PRESERVING);
    assertThat(MaskingStrategy.fromFileName("hash")).isEmpty();
  }
}
