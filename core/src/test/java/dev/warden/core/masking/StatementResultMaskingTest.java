package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The masking a decision hands the proxy, on its own: what it was decided under and when that stops
 * holding, and that a fault in the session's masking never leaves a value unmasked nor reaches the
 * proxy as an exception.
 */
class StatementResultMaskingTest {
  private static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z");

  /** A mask that says which kind it masks. */
  record KindMask(Optional<DataKind> kind) implements ColumnMask {
    @Override
    public String strategy() {
      return "redact";
    }

    @Override
    public String mask(String value, ValueType type) {
      return "[masked]";
    }
  }

  /** A mask with a strategy. */
  record StrategyMask(Optional<DataKind> kind, String strategy) implements ColumnMask {
    @Override
    public String mask(String value, ValueType type) {
      return "[masked]";
    }
  }

  /** A session's masking whose parts can be made to fail. */
  static final class TestSession implements SessionMasking {
    boolean failing;
    Optional<Instant> validUntil = Optional.empty();

    @Override
    public ColumnMask mask(Optional<DataKind> kind) {
      if (kind.equals(Optional.of(DataKind.PHONE))) {
        return new StrategyMask(kind, "partial");
      }
      return new KindMask(kind);
    }

    @Override
    public ColumnMask backstop(String value) {
      if (failing) {
        throw new IllegalStateException("detector fault");
      }
      return value.contains("@") ? new KindMask(Optional.of(DataKind.EMAIL)) : null;
    }

    @Override
    public String scrubText(String text) {
      if (failing) {
        throw new IllegalStateException("scrubber fault");
      }
      return text.replace("alice@example.com", "[email]");
    }

    @Override
    public DataMap overlay(DataMap map) {
      if (failing) {
        throw new IllegalStateException("overlay fault");
      }
      return map;
    }

    @Override
    public List<ContentDetector> detectors() {
      return List.of();
    }

    @Override
    public boolean denyInference() {
      return false;
    }

    @Override
    public Optional<Instant> validUntil() {
      return validUntil;
    }
  }

  /** One database's map, replaced by the test. */
  static final class OneMap implements DataMaps {
    volatile DataMap map;

    @Override
    public CompletableFuture<DataMap> ready(String environment, String database) {
      return CompletableFuture.completedFuture(map);
    }

    @Override
    public Optional<DataMap> current(String environment, String database) {
      return Optional.ofNullable(map);
    }

    @Override
    public void schemaChanged(String environment, String database) {}

    @Override
    public void unknownRelation(String environment, String database, long id) {}
  }

  private static DataMap map(long version) {
    return DataMap.of(
        "prod",
        "app",
        version,
        T0,
        List.of(
            new MappedRelation(
                7,
                "public",
                "users",
                MappedRelation.Type.TABLE,
                List.of(
                    new MappedColumn(1, "id", "int4", Optional.empty(), Finding.NAME, ""),
                    new MappedColumn(
                        2, "email", "text", Optional.of(DataKind.EMAIL), Finding.NAME, "")))));
  }

  private final OneMap maps = new OneMap();
  private final TestSession session = new TestSession();

  StatementResultMaskingTest() {
    maps.map = map(1);
  }

  private StatementResultMasking masking(MaskingJudge.Judgement judgement) {
    return StatementResultMasking.masked(
        maps, "prod", "app", session, maps.map, session.overlay(maps.map), judgement);
  }

  private static MaskingJudge.Judgement clear() {
    return new MaskingJudge.Judgement(Optional.empty(), false, Optional.empty(), false);
  }

  @Test
  void masksComeFromTheMapByOrigin() {
    StatementResultMasking m = masking(clear());
    assertThat(m.active()).isTrue();
    assertThat(m.column(7, 1)).isNull();
    assertThat(m.column(7, 2).kind()).contains(DataKind.EMAIL);
    assertThat(m.column(7, 0).kind()).isEmpty();
    assertThat(m.column(7, -3)).isNull();
    assertThat(m.computed()).isNull();
    StatementResultMasking tainted =
        masking(
            new MaskingJudge.Judgement(Optional.empty(), true, Optional.of(DataKind.EMAIL), true));
    assertThat(tainted.computed().kind()).contains(DataKind.EMAIL);
    assertThat(tainted.scrubErrors()).isTrue();
  }

  @Test
  void resultsAreInspectedOnlyWhenTheStatementTouchesSensitiveOrHiddenData() {
    // Touching nothing sensitive (pgbench's point selects): the proxy forwards rows unread.
    assertThat(masking(clear()).inspectsResults()).isFalse();
    // Touching a sensitive column (its errors are scrubbed): rows are planned.
    assertThat(
            masking(new MaskingJudge.Judgement(Optional.empty(), false, Optional.empty(), true))
                .inspectsResults())
        .isTrue();
    // No map yet: every column may need masking.
    StatementResultMasking noMap =
        StatementResultMasking.masked(maps, "prod", "app", session, null, null, clear());
    assertThat(noMap.inspectsResults()).isTrue();
    assertThat(ResultMasking.NONE.inspectsResults()).isFalse();
  }

  @Test
  void aComputedColumnIsNotMaskedPartiallySinceItNeedNotHaveTheKindsShape() {
    StatementResultMasking phone =
        masking(
            new MaskingJudge.Judgement(Optional.empty(), true, Optional.of(DataKind.PHONE), true));
    assertThat(phone.computed().kind()).isEmpty();
  }

  @Test
  void itHoldsWhileTheMapVersionAndTheExemptionStatusDo() {
    session.validUntil = Optional.of(T0.plusSeconds(60));
    StatementResultMasking m = masking(clear());
    assertThat(m.holds(InstantSource.fixed(T0))).isTrue();
    assertThat(m.holds(InstantSource.fixed(T0.plusSeconds(60)))).isFalse();
    maps.map = map(2);
    assertThat(m.holds(InstantSource.fixed(T0))).isFalse();
    maps.map = null;
    assertThat(m.holds(InstantSource.fixed(T0))).isFalse();
    StatementResultMasking none =
        StatementResultMasking.exempt(maps, "prod", "app", null, Optional.empty());
    assertThat(none.holds(InstantSource.fixed(T0))).isTrue();
    maps.map = map(3);
    assertThat(none.holds(InstantSource.fixed(T0))).isFalse();
  }

  @Test
  void anExemptIdentityIsNotMasked() {
    StatementResultMasking m =
        StatementResultMasking.exempt(maps, "prod", "app", maps.map, Optional.empty());
    assertThat(m.active()).isFalse();
    assertThat(m.column(7, 2)).isNull();
    assertThat(m.backstop("alice@example.com")).isNull();
    assertThat(m.scrubText("alice@example.com")).isEqualTo("alice@example.com");
  }

  @Test
  void aFaultInTheSessionsMaskingMasksInsteadOfThrowing() {
    StatementResultMasking m = masking(clear());
    maps.map = map(2); // a new map: column() overlays it again
    session.failing = true;
    assertThat(m.column(7, 1).kind()).isEmpty();
    assertThat(m.backstop("anything").kind()).isEmpty();
    assertThat(m.scrubText("invalid input: alice@example.com"))
        .isEqualTo(StatementResultMasking.WITHHELD);
    session.failing = false;
    assertThat(m.scrubText("invalid input: alice@example.com")).isEqualTo("invalid input: [email]");
  }
}
