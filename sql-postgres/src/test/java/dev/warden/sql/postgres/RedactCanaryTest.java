package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.LexicalSettings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Canaries planted as secrets in generated statements of every form the redactor knows, in every
 * way of writing a literal, never come out: not whole, not any six characters of them in any case,
 * not in hex, not in base64 (AU08's canary scan, for the audit text).
 */
class RedactCanaryTest {
  private static final PostgresRedactor CREDENTIALS = new PostgresRedactor();
  private static final PostgresRedactor ALL =
      new PostgresRedactor(PostgresRedactor.Mode.ALL_LITERALS);
  private static final String LOWER = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  private static final String MIXED = LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  /** A statement with the canaries it hides, and the settings it is lexed with. */
  private record Planted(String sql, List<String> canaries, LexicalSettings settings) {}

  /** How a string value is written: each form the lexer knows. */
  private enum Style {
    PLAIN,
    ESCAPE_STRING,
    ESCAPE_STRING_HEX, // the canary's first char as \xHH
    DOLLAR,
    TAGGED_DOLLAR,
    UNICODE, // the canary's first char as \XXXX
    CONTINUED // split over two lines
  }

  private final Random random = new Random(20240604L);

  private String canary(int length, String alphabet) {
    StringBuilder b = new StringBuilder(length);
    b.append((char) ('a' + random.nextInt(26))); // a valid identifier where one is needed
    while (b.length() < length) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return alphabet == UPPER ? b.toString().toUpperCase(Locale.ROOT) : b.toString();
  }

  /** {@code value}, which holds {@code canary}, written as a literal in {@code style}. */
  private static String literal(String value, String canary, Style style) {
    int at = value.indexOf(canary);
    return switch (style) {
      case PLAIN -> "'" + value.replace("'", "''") + "'";
      case ESCAPE_STRING -> "E'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
      case ESCAPE_STRING_HEX ->
          "E'"
              + value.substring(0, at).replace("\\", "\\\\").replace("'", "\\'")
              + String.format("\\x%02x", (int) value.charAt(at))
              + value.substring(at + 1).replace("\\", "\\\\").replace("'", "\\'")
              + "'";
      case DOLLAR -> "$$" + value + "$$";
      case TAGGED_DOLLAR -> "$k9$" + value + "$k9$";
      case UNICODE ->
          "U&'"
              + value.substring(0, at).replace("'", "''").replace("\\", "\\\\")
              + String.format("\\%04x", (int) value.charAt(at))
              + value.substring(at + 1).replace("'", "''").replace("\\", "\\\\")
              + "'";
      case CONTINUED -> {
        int split = at + canary.length() / 2;
        yield "'"
            + value.substring(0, split).replace("'", "''")
            + "'\n  '"
            + value.substring(split).replace("'", "''")
            + "'";
      }
    };
  }

  private List<Planted> statements() {
    List<Planted> out = new ArrayList<>();
    LexicalSettings standard = LexicalSettings.DEFAULT;
    // forms whose secret is a whole value, in every style
    List<Function<String, String>> valueForms =
        List.of(
            v -> "ALTER ROLE alice PASSWORD " + v,
            v -> "CREATE ROLE r WITH LOGIN ENCRYPTED PASSWORD " + v + " VALID UNTIL '2030-01-01'",
            v -> "CREATE USER u PASSWORD " + v,
            v -> "CREATE GROUP g PASSWORD " + v,
            v -> "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password " + v + ")",
            v -> "ALTER USER MAPPING FOR PUBLIC SERVER s OPTIONS (SET password " + v + ")",
            v -> "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname " + v + ")",
            v -> "ALTER SERVER s OPTIONS (ADD password " + v + ")",
            v -> "SELECT pgp_sym_encrypt('data', " + v + ")",
            v -> "SELECT pgp_sym_decrypt_bytea(col, " + v + ") FROM t",
            v -> "SELECT pgp_pub_decrypt(col, dearmor(" + v + "), 'x')",
            v -> "SELECT encrypt('x', " + v + ", 'aes'), decrypt(c, " + v + ", 'bf') FROM t",
            v -> "SELECT encrypt_iv('x', " + v + ", 'iv', 'aes')",
            v -> "SELECT hmac('message', " + v + ", 'sha256')",
            v -> "SELECT crypt(" + v + ", gen_salt('bf'))",
            v -> "SELECT set_config('app.password', " + v + ", false)",
            v -> "SET app.secret = " + v,
            v -> "SET SESSION my.api_key TO " + v,
            v -> "ALTER ROLE r SET app.token = " + v,
            v -> "ALTER SYSTEM SET x.password TO " + v,
            v -> "UPDATE users SET password = " + v + " WHERE id = 1",
            v -> "INSERT INTO users (name, password) VALUES ('n', " + v + ")",
            v -> "SELECT * FROM users WHERE password = " + v,
            v -> "SELECT * FROM t WHERE data->>'token' = " + v);
    // forms whose secret is part of a value
    List<Function<String, String>> insideForms =
        List.of(
            c -> "host=db user=rep password=" + c,
            c -> "postgresql://app:" + c + "@db.example/x",
            c -> "{\"user\": \"u\", \"password\": \"" + c + "\"}",
            c -> "password: " + c);
    List<Function<String, String>> insideStatements =
        List.of(
            v -> "CREATE SUBSCRIPTION sub CONNECTION " + v + " PUBLICATION p",
            v -> "ALTER SUBSCRIPTION sub CONNECTION " + v,
            v -> "SELECT * FROM dblink(" + v + ", 'select 1') AS t(a int)",
            v -> "SELECT dblink_connect('c', " + v + ")",
            v -> "SELECT dblink_exec(" + v + ", 'delete from t')",
            v -> "INSERT INTO settings VALUES (" + v + ")",
            v -> "SELECT " + v + " AS anything");
    for (Style style : Style.values()) {
      for (Function<String, String> form : valueForms) {
        String c = canary(20, LOWER);
        out.add(new Planted(form.apply(literal(c, c, style)), List.of(c), standard));
      }
      for (Function<String, String> statement : insideStatements) {
        Function<String, String> inside = insideForms.get(random.nextInt(insideForms.size()));
        String c = canary(20, MIXED);
        String value = inside.apply(c);
        out.add(new Planted(statement.apply(literal(value, c, style)), List.of(c), standard));
      }
    }
    // a bare word as a setting's value
    String bare = canary(18, LOWER);
    out.add(new Planted("SET LOCAL app.token TO " + bare, List.of(bare), standard));
    bare = canary(18, LOWER);
    out.add(new Planted("ALTER DATABASE d SET x.secret = " + bare, List.of(bare), standard));
    // token formats, in any literal
    for (Style style : List.of(Style.PLAIN, Style.DOLLAR, Style.ESCAPE_STRING)) {
      String a = canary(24, MIXED);
      String b = canary(24, MIXED);
      String jwt = "eyJ" + a + ".eyJ" + b + ".sig";
      out.add(new Planted("SELECT " + literal(jwt, a, style), List.of(a, b), standard));
      String aws = canary(16, UPPER);
      out.add(new Planted("SELECT " + literal("AKIA" + aws, aws, style), List.of(aws), standard));
      String asia = canary(16, UPPER);
      out.add(
          new Planted(
              "INSERT INTO k VALUES (" + literal("ASIA" + asia, asia, style) + ")",
              List.of(asia),
              standard));
      String gh = canary(36, MIXED);
      out.add(new Planted("SELECT " + literal("ghp_" + gh, gh, style), List.of(gh), standard));
      String pat = canary(40, MIXED);
      out.add(
          new Planted(
              "SELECT " + literal("github_pat_" + pat, pat, style), List.of(pat), standard));
      String slack = canary(24, MIXED);
      out.add(
          new Planted(
              "SELECT " + literal("xoxb-123-" + slack, slack, style), List.of(slack), standard));
      String stripe = canary(24, MIXED);
      out.add(
          new Planted(
              "SELECT " + literal("sk_live_" + stripe, stripe, style), List.of(stripe), standard));
      String pem1 = canary(40, MIXED);
      String pem2 = canary(40, MIXED);
      String pem =
          "-----BEGIN OPENSSH PRIVATE KEY-----\n"
              + pem1
              + "\n"
              + pem2
              + "\n-----END OPENSSH PRIVATE KEY-----";
      out.add(new Planted("SELECT " + literal(pem, pem1, style), List.of(pem1, pem2), standard));
    }
    // comments
    String comment = canary(20, LOWER);
    out.add(
        new Planted(
            "CREATE ROLE r /* password: " + comment + " */ LOGIN PASSWORD 'x'",
            List.of(comment),
            standard));
    comment = canary(20, LOWER);
    out.add(new Planted("SELECT 1 -- token " + comment + "\n", List.of(comment), standard));
    comment = canary(20, LOWER);
    out.add(new Planted("ALTER ROLE r PASSWORD 'x' -- was " + comment, List.of(comment), standard));
    // SQL inside literals
    String inner = canary(20, LOWER);
    out.add(
        new Planted(
            "DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''" + inner + "'''; END $$",
            List.of(inner),
            standard));
    inner = canary(20, LOWER);
    out.add(
        new Planted(
            "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN"
                + " PERFORM set_config('app.password', '"
                + inner
                + "', false); END $f$",
            List.of(inner),
            standard));
    // standard_conforming_strings off: backslashes escape in plain literals
    LexicalSettings off = LexicalSettings.DEFAULT.withStandardConformingStrings(false);
    String escaped = canary(20, LOWER);
    out.add(
        new Planted("ALTER ROLE x PASSWORD 'a\\' " + escaped + "' LOGIN", List.of(escaped), off));
    escaped = canary(20, LOWER);
    out.add(new Planted("SELECT 'host=h password=" + escaped + "\\\\'", List.of(escaped), off));
    // the setting may be changing: redacted whole
    LexicalSettings unsettled = LexicalSettings.DEFAULT.withSettled(false);
    escaped = canary(20, LOWER);
    out.add(
        new Planted("ALTER ROLE x PASSWORD 'a\\' " + escaped + "'", List.of(escaped), unsettled));
    return out;
  }

  @Test
  void noCanarySurvives() {
    List<Planted> planted = statements();
    assertThat(planted).hasSizeGreaterThan(100);
    for (Planted p : planted) {
      for (String canary : p.canaries()) {
        // the test would see it: the canary is there to be found before redaction
        assertThat(p.sql().toLowerCase(Locale.ROOT))
            .contains(canary.toLowerCase(Locale.ROOT).substring(1, 7));
      }
      for (PostgresRedactor redactor : List.of(CREDENTIALS, ALL)) {
        String out = redactor.redact(p.sql(), p.settings());
        for (String canary : p.canaries()) {
          assertNoTrace(p.sql(), out, canary);
        }
      }
    }
  }

  private static void assertNoTrace(String sql, String out, String canary) {
    String lower = out.toLowerCase(Locale.ROOT);
    String c = canary.toLowerCase(Locale.ROOT);
    for (int i = 0; i + 6 <= c.length(); i++) {
      assertThat(lower)
          .as("six characters of the canary %s in the redaction of %s", canary, sql)
          .doesNotContain(c.substring(i, i + 6));
    }
    byte[] bytes = canary.getBytes(StandardCharsets.UTF_8);
    assertThat(lower)
        .as("the canary in hex, from %s", sql)
        .doesNotContain(HexFormat.of().formatHex(bytes));
    assertThat(out)
        .as("the canary in base64, from %s", sql)
        .doesNotContain(Base64.getEncoder().withoutPadding().encodeToString(bytes))
        .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
  }

  @Test
  void statementsWithoutSecretsComeBackAsTheSameInstance() {
    List<String> statements = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String table = "t_" + canary(8, LOWER);
      String word = canary(10, LOWER);
      int n = random.nextInt(100_000);
      statements.add("SELECT a, b FROM " + table + " WHERE id = " + n);
      statements.add("INSERT INTO " + table + " (a, b) VALUES (" + n + ", '" + word + "')");
      statements.add("UPDATE " + table + " SET b = '" + word + "' WHERE a = " + n);
      // trigger words without secrets: lexed, and still nothing to remove
      statements.add("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
      statements.add("SELECT token, key FROM api_keys WHERE provider = '" + word + "'");
      statements.add("SELECT * FROM servers WHERE name = E'" + word + "\\n'");
      statements.add("SELECT digest('" + word + "', 'sha256')");
    }
    for (String sql : statements) {
      assertThat(CREDENTIALS.redact(sql, LexicalSettings.DEFAULT)).as(sql).isSameAs(sql);
    }
  }
}
