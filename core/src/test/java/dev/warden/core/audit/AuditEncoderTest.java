package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@link AuditEncoder#encode} writes, spelled out by hand for each record type. */
class AuditEncoderTest {
  private static final byte[] KEY =
      "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final Instant TIME = Instant.parse("2026-11-28T09:15:30.123456789Z");

  private final AuditEncoder encoder = new AuditEncoder("warden-1", Redactor.NONE, KEY);

  static SessionContext session() {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("not-recorded"),
            TlsMode.DISABLE,
            Optional.empty());
    return new SessionContext(
        "s-17",
        new Identity("alice@corp.example", Set.of("staff", "analysts"), AuthMethod.SCRAM_SHA_256),
        new Environment("production", Set.of("production"), List.of("shop"), upstream),
        "10.0.0.7:51234",
        "shop",
        "psql");
  }

  static Analysis update() {
    TableRef orders = new TableRef("public", "orders");
    TableRef customers = TableRef.unqualified("customers");
    return new Analysis(
        List.of(
            new Statement(
                StatementKind.WRITE,
                "UPDATE",
                Set.of(customers),
                Set.of(orders),
                Set.of(new ColumnRef(orders, "id"), new ColumnRef(customers, "email")),
                Set.of(new ColumnRef(orders, "status")),
                Set.of("lower"),
                true,
                false,
                Set.of(StatementFlag.LOCKS, StatementFlag.DESTRUCTIVE),
                "",
                "",
                Optional.empty())),
        "fp1");
  }

  static StatementIntent intent(Decision decision, String text, String prepared) {
    return new StatementIntent(
        TIME,
        session(),
        42,
        StatementPath.PREPARED,
        text,
        LexicalSettings.DEFAULT,
        prepared,
        decision,
        Durability.IMMEDIATE);
  }

  private String json(AuditRecord r) {
    byte[] bytes = encoder.encode(r);
    assertThat(bytes).isEqualTo(CanonicalJsonOriginal.encode(encoder.fields(r)));
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  void anAllowedIntent() {
    StatementIntent i =
        intent(
            new Decision(
                Verdict.ALLOW, update(), "default", false, OptionalLong.empty(), null, 1, true),
            "UPDATE orders SET status = 'x' WHERE id = 1",
            "");
    assertThat(json(i))
        .isEqualTo(
            "{\"application\":\"psql\",\"auth\":\"scram-sha-256\",\"client\":\"10.0.0.7:51234\","
                + "\"columns\":[\"customers.email\",\"public.orders.id\",\"public.orders.status\"],"
                + "\"database\":\"shop\",\"durability\":\"immediate\",\"env\":\"production\","
                + "\"fingerprint\":\"fp1\",\"groups\":[\"analysts\",\"staff\"],"
                + "\"instance\":\"warden-1\",\"kinds\":[\"write\"],\"path\":\"prepared\","
                + "\"rule\":\"default\",\"session\":\"s-17\",\"statements\":[{"
                + "\"columns_read\":[\"customers.email\",\"public.orders.id\"],"
                + "\"columns_written\":[\"public.orders.status\"],\"command\":\"UPDATE\","
                + "\"flags\":[\"destructive\",\"locks\"],\"functions\":[\"lower\"],\"kind\":\"write\","
                + "\"tables_read\":[\"customers\"],\"tables_written\":[\"public.orders\"]}],"
                + "\"stmt\":42,\"tables\":[\"customers\",\"public.orders\"],"
                + "\"text\":\"UPDATE orders SET status = 'x' WHERE id = 1\","
                + "\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"intent\","
                + "\"user\":\"alice@corp.example\",\"verdict\":\"allowed\"}");
  }

  @Test
  void aDeniedIntentWithEveryOptionalField() throws Exception {
    Redactor redactor = (sql, lexical) -> sql.replace("hunter2", "***");
    AuditEncoder redacting = new AuditEncoder("w", redactor, KEY);
    Decision denied =
        new Decision(
            new Verdict.Deny("42501", "no \"updates\"\n", "hint"),
            Analysis.unknown("syntax error"),
            "r1",
            false,
            OptionalLong.of(-5),
            new Verdict.Deny("54000", "too many", ""),
            1,
            false);
    String text = "ALTER ROLE a PASSWORD 'hunter2'";
    StatementIntent i = intent(denied, text, "p\t1");
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
    String hmac =
        java.util.HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    byte[] bytes = redacting.encode(i);
    assertThat(bytes).isEqualTo(CanonicalJsonOriginal.encode(redacting.fields(i)));
    assertThat(new String(bytes, StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"application\":\"psql\",\"auth\":\"scram-sha-256\",\"client\":\"10.0.0.7:51234\","
                + "\"columns\":[],\"database\":\"shop\",\"durability\":\"immediate\","
                + "\"env\":\"production\",\"fingerprint\":\"\",\"groups\":[\"analysts\",\"staff\"],"
                + "\"instance\":\"w\",\"kinds\":[\"unknown\"],\"path\":\"prepared\","
                + "\"prepared\":\"p\\t1\",\"reason\":\"no \\\"updates\\\"\\n\",\"redacted\":true,"
                + "\"row_limit\":-5,\"rule\":\"r1\",\"session\":\"s-17\",\"sqlstate\":\"42501\","
                + "\"statements\":[{\"columns_read\":[],\"columns_written\":[],"
                + "\"command\":\"UNKNOWN\",\"flags\":[],\"functions\":[],\"kind\":\"unknown\","
                + "\"tables_read\":[],\"tables_written\":[],\"unknown_reason\":\"syntax error\"}],"
                + "\"stmt\":42,\"tables\":[],\"text\":\"ALTER ROLE a PASSWORD '***'\","
                + "\"text_hmac\":\""
                + hmac
                + "\",\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"intent\","
                + "\"user\":\"alice@corp.example\",\"verdict\":\"denied\"}");
  }

  @Test
  void anObservedIntentSaysSoAndADenialStaysADenial() {
    // Observe-only mode lets a statement that would have been refused run: an allow, marked.
    StatementIntent observed =
        intent(
            new Decision(Verdict.ALLOW, update(), "", true, OptionalLong.empty(), null, 1, true),
            "x",
            "");
    assertThat(json(observed))
        .endsWith(",\"verdict\":\"observed\"}")
        .doesNotContain("\"reason\"")
        .doesNotContain("\"sqlstate\"");
    // A refusal is recorded as one, with its SQLSTATE and reason, whatever the mark says.
    StatementIntent denied =
        intent(
            new Decision(
                new Verdict.Deny("42501", "no", ""),
                update(),
                "",
                true,
                OptionalLong.empty(),
                null,
                1,
                true),
            "x",
            "");
    assertThat(json(denied))
        .endsWith(",\"verdict\":\"denied\"}")
        .contains(",\"reason\":\"no\",")
        .contains(",\"sqlstate\":\"42501\",");
  }

  @Test
  void theTextIsMacedOnlyWhenTheRedactorChangedIt() {
    int[] calls = {0};
    Redactor counting =
        (sql, lexical) -> {
          calls[0]++;
          return sql;
        };
    AuditEncoder e = new AuditEncoder("w", counting, KEY);
    String json =
        new String(
            e.encode(
                intent(
                    new Decision(
                        Verdict.ALLOW, update(), "", false, OptionalLong.empty(), null, 1, true),
                    "SELECT 1",
                    "")),
            StandardCharsets.UTF_8);
    assertThat(calls[0]).isEqualTo(1);
    assertThat(json).doesNotContain("text_hmac").doesNotContain("redacted");
  }

  @Test
  void anOutcome() {
    StatementOutcome ok =
        new StatementOutcome(
            TIME,
            "s-17",
            42,
            StatementOutcome.Status.OK,
            OptionalLong.of(3),
            "UPDATE 3",
            412_999,
            "",
            List.of());
    assertThat(json(ok))
        .isEqualTo(
            "{\"duration_us\":412,\"instance\":\"warden-1\",\"masked\":[],\"rows\":3,"
                + "\"session\":\"s-17\",\"status\":\"ok\",\"stmt\":42,\"tag\":\"UPDATE 3\","
                + "\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"outcome\"}");
    StatementOutcome failed =
        new StatementOutcome(
            TIME,
            "s-17",
            43,
            StatementOutcome.Status.NOT_RUN,
            OptionalLong.empty(),
            "",
            -1999,
            "57014",
            List.of("email", "card"),
            12);
    assertThat(json(failed))
        .isEqualTo(
            "{\"duration_us\":-1,\"instance\":\"warden-1\",\"masked\":[\"email\",\"card\"],"
                + "\"masked_values\":12,\"session\":\"s-17\",\"sqlstate\":\"57014\",\"status\":\"not-run\",\"stmt\":43,"
                + "\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"outcome\"}");
  }

  @Test
  void eventsWithAndWithoutSessionDetailsAndActor() {
    AuditEvent bare = new AuditEvent(TIME, "policy-reload", false, "", Optional.empty(), Map.of());
    assertThat(json(bare))
        .isEqualTo(
            "{\"event\":\"policy-reload\",\"instance\":\"warden-1\",\"success\":false,"
                + "\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"event\"}");
    AuditEvent admin =
        new AuditEvent(TIME, "user-add", true, "bob", Optional.empty(), Map.of("z", "1", "a", "2"));
    assertThat(json(admin))
        .isEqualTo(
            "{\"details\":{\"a\":\"2\",\"z\":\"1\"},\"event\":\"user-add\",\"instance\":\"warden-1\","
                + "\"success\":true,\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"event\","
                + "\"user\":\"bob\"}");
    // With a session, the session's identity is the user, whatever the actor says.
    AuditEvent connect =
        new AuditEvent(
            TIME, "connect", true, "mallory", Optional.of(session()), Map.of("tls", "on"));
    assertThat(json(connect))
        .isEqualTo(
            "{\"application\":\"psql\",\"auth\":\"scram-sha-256\",\"client\":\"10.0.0.7:51234\","
                + "\"database\":\"shop\",\"details\":{\"tls\":\"on\"},\"env\":\"production\","
                + "\"event\":\"connect\",\"groups\":[\"analysts\",\"staff\"],"
                + "\"instance\":\"warden-1\",\"session\":\"s-17\",\"success\":true,"
                + "\"time\":\"2026-11-28T09:15:30.123456Z\",\"type\":\"event\","
                + "\"user\":\"alice@corp.example\"}");
  }

  @Test
  void timesAreWrittenAsTheFormatterWritesThem() {
    Random random = new Random(1128);
    List<Instant> edges =
        List.of(
            Instant.EPOCH,
            Instant.ofEpochSecond(-1, 999_999_999),
            Instant.parse("0000-01-01T00:00:00Z"),
            Instant.parse("-0001-12-31T23:59:59.999999Z"),
            Instant.parse("9999-12-31T23:59:59.999999999Z"),
            Instant.parse("+10000-01-01T00:00:00Z"),
            Instant.parse("2000-02-29T12:00:00.000001Z"),
            Instant.parse("1900-03-01T00:00:00Z"),
            Instant.parse("2100-02-28T23:59:59Z"),
            Instant.parse("1600-02-29T00:00:00Z"),
            Instant.parse("+1000000-06-30T12:00:00Z"),
            Instant.parse("-1000000-06-30T12:00:00Z"));
    for (int n = 0; n < 20_000 + edges.size(); n++) {
      Instant t =
          n < edges.size()
              ? edges.get(n)
              : Instant.ofEpochSecond(
                  random.nextLong(-80_000_000_000L, 300_000_000_000L),
                  random.nextInt(1_000_000_000));
      AuditEvent e = new AuditEvent(t, "e", true, "", Optional.empty(), Map.of());
      assertThat(new String(encoder.encode(e), StandardCharsets.UTF_8))
          .as("%s", t)
          .contains("\"time\":\"" + AuditEncoder.formatTime(t) + "\"");
    }
    // What the formatter cannot write (its epoch day is out of range) is refused as it refuses it.
    for (Instant extreme : List.of(Instant.MIN, Instant.MAX)) {
      AuditEvent e = new AuditEvent(extreme, "e", true, "", Optional.empty(), Map.of());
      assertThatThrownBy(() -> AuditEncoder.formatTime(extreme))
          .isInstanceOf(DateTimeException.class);
      assertThatThrownBy(() -> encoder.encode(e)).isInstanceOf(DateTimeException.class);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 31})
  void aShortKeyIsRefused(int length) {
    assertThatThrownBy(() -> new AuditEncoder("w", Redactor.NONE, new byte[length]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the audit HMAC key needs at least 32 bytes");
  }
}
