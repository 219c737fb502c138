package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.statement.LexicalSettings;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What each rule of the redactor removes, and what it keeps (THREATS AD06). */
class PostgresRedactorTest {
  private static final PostgresRedactor CREDENTIALS = new PostgresRedactor();
  private static final PostgresRedactor ALL =
      new PostgresRedactor(PostgresRedactor.Mode.ALL_LITERALS);
  private static final LexicalSettings NON_STANDARD =
      LexicalSettings.DEFAULT.withStandardConformingStrings(false);

  static Stream<Arguments> credentials() {
    return Stream.of(
        // role passwords, whatever the literal's form; VALID UNTIL stays
        pair("ALTER ROLE alice PASSWORD 'hunter2'", "ALTER ROLE alice PASSWORD '***'"),
        pair(
            "CREATE USER bob WITH LOGIN ENCRYPTED PASSWORD 'md5abc' VALID UNTIL '2030-01-01'",
            "CREATE USER bob WITH LOGIN ENCRYPTED PASSWORD '***' VALID UNTIL '2030-01-01'"),
        pair(
            "ALTER USER bob PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'"
                + " VALID UNTIL 'infinity'",
            "ALTER USER bob PASSWORD '***' VALID UNTIL 'infinity'"),
        pair("CREATE GROUP g PASSWORD 'pw'", "CREATE GROUP g PASSWORD '***'"),
        pair("alter role r with password 'pw' login", "alter role r with password '***' login"),
        pair("ALTER ROLE r PASSWORD E'a\\'b\\\\c'", "ALTER ROLE r PASSWORD '***'"),
        pair("ALTER ROLE r PASSWORD U&'d\\0061t\\+000061'", "ALTER ROLE r PASSWORD '***'"),
        pair("ALTER ROLE r PASSWORD U&'d!0061t' UESCAPE '!'", "ALTER ROLE r PASSWORD '***'"),
        pair("ALTER ROLE r PASSWORD $pw$it's$pw$", "ALTER ROLE r PASSWORD '***'"),
        pair("ALTER ROLE r PASSWORD $$x$$ LOGIN", "ALTER ROLE r PASSWORD '***' LOGIN"),
        // a literal continued on the next line is one value to the server
        pair("ALTER ROLE r PASSWORD 'part1'\n'part2'", "ALTER ROLE r PASSWORD '***'"),
        pair(
            "ALTER ROLE r PASSWORD 'part1' -- c\n'part2' LOGIN",
            "ALTER ROLE r PASSWORD '***' LOGIN"),
        pair("ALTER ROLE r PASSWORD NULL", "ALTER ROLE r PASSWORD NULL"),
        // comments in a statement that lost a secret go too; comments naming a secret anywhere
        pair(
            "CREATE ROLE r /* the usual one */ LOGIN PASSWORD 'pw' -- for the app",
            "CREATE ROLE r /* *** */ LOGIN PASSWORD '***' -- ***"),
        pair(
            "SELECT 1 /* password: hunter2 */; SELECT 2 /* plain */",
            "SELECT 1 /* *** */; SELECT 2 /* plain */"),
        // user mappings, servers and wrappers: every option value
        pair(
            "CREATE USER MAPPING FOR alice SERVER films OPTIONS (user 'alice', password 'pw')",
            "CREATE USER MAPPING FOR alice SERVER films OPTIONS (user '***', password '***')"),
        pair(
            "ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (SET password 'pw', DROP user)",
            "ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (SET password '***', DROP user)"),
        pair(
            "CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER s OPTIONS (\"password\" 'pw')",
            "CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER s OPTIONS (\"password\" '***')"),
        pair(
            "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', port '5432')",
            "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '***', port '***')"),
        pair(
            "ALTER SERVER s VERSION '2' OPTIONS (ADD sslpassword 'pw')",
            "ALTER SERVER s VERSION '2' OPTIONS (ADD sslpassword '***')"),
        // subscriptions
        pair(
            "CREATE SUBSCRIPTION sub CONNECTION 'host=db user=rep password=pw' PUBLICATION p",
            "CREATE SUBSCRIPTION sub CONNECTION '***' PUBLICATION p"),
        pair(
            "ALTER SUBSCRIPTION sub CONNECTION 'dbname=d password=pw'",
            "ALTER SUBSCRIPTION sub CONNECTION '***'"),
        // pgcrypto: every constant of a key-taking call; digest and gen_salt alone stay
        pair(
            "SELECT pgp_sym_encrypt('data', 'key1'), pgp_sym_decrypt(col, 'key2') FROM t",
            "SELECT pgp_sym_encrypt('***', '***'), pgp_sym_decrypt(col, '***') FROM t"),
        pair(
            "SELECT pgp_pub_decrypt_bytea(m, dearmor('-----x'), 'pw')",
            "SELECT pgp_pub_decrypt_bytea(m, dearmor('***'), '***')"),
        pair(
            "SELECT encrypt_iv('x'::bytea, 'k'::bytea, '\\x00'::bytea, 'aes'), digest('x', 'sha1')",
            "SELECT encrypt_iv('***'::bytea, '***'::bytea, '***'::bytea, '***'), digest('x', 'sha1')"),
        pair(
            "SELECT hmac('m', 'k', 'sha256'), crypt('pw', gen_salt('bf')), gen_salt('md5')",
            "SELECT hmac('***', '***', '***'), crypt('***', gen_salt('***')), gen_salt('md5')"),
        pair(
            "SELECT public.\"pgp_sym_encrypt\"('d', 'k')",
            "SELECT public.\"pgp_sym_encrypt\"('***', '***')"),
        pair(
            "SELECT U&\"\\0070gp_sym_encrypt\"('d', 'k')",
            "SELECT U&\"\\0070gp_sym_encrypt\"('***', '***')"),
        // dblink: the connection string, not the remote query
        pair(
            "SELECT * FROM dblink('host=h password=pw', 'select 1') AS t(a int)",
            "SELECT * FROM dblink('***', 'select 1') AS t(a int)"),
        pair("SELECT dblink('select 2')", "SELECT dblink('select 2')"),
        pair(
            "SELECT dblink_connect('c', 'dbname=x password=pw'), dblink_exec('c2', 'delete from t')",
            "SELECT dblink_connect('***', '***'), dblink_exec('***', 'delete from t')"),
        pair("SELECT dblink_connect_u('dbname=x')", "SELECT dblink_connect_u('***')"),
        // settings named for secrets
        pair(
            "SELECT set_config('app.password', 'pw', false), set_config('search_path', 'p', false)",
            "SELECT set_config('app.password', '***', false), set_config('search_path', 'p', false)"),
        pair("SELECT set_config(name, 'v', false)", "SELECT set_config(name, '***', false)"),
        pair(
            "SET app.secret = 'pw'; SET search_path = public; SET SESSION my.api_key TO pw",
            "SET app.secret = '***'; SET search_path = public; SET SESSION my.api_key TO ***"),
        pair("SET LOCAL app.token TO 12345", "SET LOCAL app.token TO '***'"),
        pair("ALTER ROLE r SET app.token = 'tok'", "ALTER ROLE r SET app.token = '***'"),
        pair(
            "ALTER DATABASE d SET \"my.Secret\" TO 'x', 'y'",
            "ALTER DATABASE d SET \"my.Secret\" TO '***', '***'"),
        pair("ALTER SYSTEM SET my.password = 'pw'", "ALTER SYSTEM SET my.password = '***'"),
        pair("SET statement_timeout = '5s'", "SET statement_timeout = '5s'"),
        // literals anywhere that look like connection strings, URLs, tokens, keys
        pair(
            "SELECT 'postgresql://user:pw@host/db', 'host=x password=pw user=y', 'host=x'",
            "SELECT 'postgresql://user:***@host/db', 'host=x password=*** user=y', 'host=x'"),
        pair(
            "INSERT INTO cfg VALUES ('{\"user\": \"u\", \"password\": \"p\\\"w\"}')",
            "INSERT INTO cfg VALUES ('{\"user\": \"u\", \"password\": \"***\"}')"),
        pair(
            "SELECT 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123', 'AKIAABCDEFGHIJKLMNOP'",
            "SELECT 'eyJ***', 'AKIA***'"),
        pair(
            "SELECT 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'xoxb-1234567890-abcdefghij'",
            "SELECT 'ghp_***', 'xoxb-***'"),
        pair(
            "SELECT 'github_pat_11ABCDEFG0123456789_abcdefghij', 'sk_live_abcdefghijklmnop'",
            "SELECT 'github_pat_***', 'sk_live_***'"),
        pair(
            "SELECT '-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----'",
            "SELECT '-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----'"),
        pair("SELECT E'\\x70assword=pw'", "SELECT E'password=***'"),
        pair("SELECT U&'\\0070assword=pw'", "SELECT 'password=***'"),
        pair("SELECT $$token: abc$$", "SELECT $$token: ***$$"),
        // columns and fields named for secrets
        pair(
            "INSERT INTO users (name, password) VALUES ('bob', 'pw1'), ('al', 'pw2')",
            "INSERT INTO users (name, password) VALUES ('bob', '***'), ('al', '***')"),
        pair(
            "UPDATE users SET password = md5('pw'), name = 'x' WHERE id = 1",
            "UPDATE users SET password = md5('***'), name = 'x' WHERE id = 1"),
        pair(
            "INSERT INTO t (id, token) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET token = 'b'",
            "INSERT INTO t (id, token) VALUES (1, '***') ON CONFLICT (id) DO UPDATE SET token = '***'"),
        pair(
            "SELECT * FROM users WHERE password = 'p' AND data->>'token' = 't' AND 's' = secret",
            "SELECT * FROM users WHERE password = '***' AND data->>'token' = '***' AND '***' = secret"),
        pair("SELECT f(api_key => 'k', n => 1)", "SELECT f(api_key => '***', n => 1)"),
        // SQL inside literals: function bodies and strings for EXECUTE
        pair(
            "DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''pw'''; END $$",
            "DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''***'''; END $$"),
        pair(
            "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$\n"
                + "BEGIN PERFORM set_config('app.password', 'pw', false); END $body$",
            "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$\n"
                + "BEGIN PERFORM set_config('app.password', '***', false); END $body$"),
        // several statements: only the one with a secret changes
        pair(
            "SELECT 'a' /* x */; ALTER ROLE x PASSWORD 'pw' /* y */; SELECT 'b' /* z */",
            "SELECT 'a' /* x */; ALTER ROLE x PASSWORD '***' /* *** */; SELECT 'b' /* z */"));
  }

  private static Arguments pair(String in, String out) {
    return Arguments.of(in, out);
  }

  @ParameterizedTest
  @MethodSource("credentials")
  void redactsCredentials(String in, String expected) {
    assertThat(CREDENTIALS.redact(in, LexicalSettings.DEFAULT)).isEqualTo(expected);
  }

  static Stream<Arguments> allLiterals() {
    return Stream.of(
        pair(
            "SELECT * FROM t WHERE a = $1 AND b = 'x' AND c > 2.5 LIMIT 10",
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c > $3 LIMIT $4"),
        pair(
            "ALTER ROLE alice PASSWORD 'x' VALID UNTIL '2030-01-01'",
            "ALTER ROLE alice PASSWORD $1 VALID UNTIL $2"),
        pair(
            "SELECT E'a\\nb', U&'d\\0061t', $q$x$q$, B'01', X'1f' -- note",
            "SELECT $1, $2, $3, $4, $5 -- ***"),
        pair("SET my.secret = pw /* c */", "SET my.secret = *** /* *** */"),
        pair("SET my.secret = pw", "SET my.secret = ***"), // no literal, but a secret
        pair("SELECT a FROM t", "SELECT a FROM t"));
  }

  @ParameterizedTest
  @MethodSource("allLiterals")
  void allLiteralsBecomePlaceholders(String in, String expected) {
    assertThat(ALL.redact(in, LexicalSettings.DEFAULT)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT 1",
        "SELECT * FROM customers WHERE id = 42",
        "INSERT INTO orders (customer_id, total) VALUES (1, 9.99)",
        "UPDATE t SET a = 'x' WHERE b = 'y'",
        "CREATE TABLE t (id int PRIMARY KEY, k text)", // "key": lexed, nothing to remove
        "SELECT provider, token FROM api_keys", // names only, no values
        "SELECT * FROM servers WHERE name = 'db1'",
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw",
        "SELECT digest('x', 'sha256')",
        "SELECT 'Ünïcödé' AS name",
        "ALTER ROLE r VALID UNTIL 'infinity'",
        "ALTER ROLE r PASSWORD NULL",
        "SET search_path = public, pg_catalog",
        "SELECT $$not code$$ || 'AKIA too short'",
        "SELECT e'\\n' AS newline", // a backslash: lexed, nothing to remove
        ""
      })
  void textWithoutSecretsComesBackAsTheSameInstance(String sql) {
    assertThat(CREDENTIALS.redact(sql, LexicalSettings.DEFAULT)).isSameAs(sql);
  }

  @Test
  void backslashesEscapeInPlainLiteralsWhenStandardConformingStringsIsOff() {
    // with the setting off, 'a\' pw' is one literal: all of it is the password
    String sql = "ALTER ROLE x PASSWORD 'a\\' hunter2' LOGIN";
    assertThat(CREDENTIALS.redact(sql, NON_STANDARD))
        .isEqualTo("ALTER ROLE x PASSWORD '***' LOGIN");
    // with it on, the same text is a literal 'a\' and then junk the server refuses; whatever the
    // lexer makes of it, the part after the quote is not a literal after PASSWORD
    assertThat(CREDENTIALS.redact("SELECT 'password=a\\'b'", NON_STANDARD))
        .isEqualTo("SELECT E'password=***'");
  }

  @Test
  void textThatCannotBeLexedWithCertaintyIsRedactedWhole() {
    String sql = "ALTER ROLE x PASSWORD 'a\\' hunter2'";
    assertThat(CREDENTIALS.redact(sql, LexicalSettings.DEFAULT.withSettled(false)))
        .isEqualTo(
            "ALTER ROLE /* redacted whole: a backslash while standard_conforming_strings may be"
                + " changing */");
    assertThat(CREDENTIALS.redact("ALTER ROLE x PASSWORD 'unterminated", LexicalSettings.DEFAULT))
        .isEqualTo("ALTER ROLE /* redacted whole: PostgreSQL's lexer rejected the text */");
    assertThat(
            CREDENTIALS.redact(
                "CREATE ROLE é PASSWORD 'pw'", LexicalSettings.DEFAULT.withClientEncoding("SJIS")))
        .isEqualTo(
            "CREATE ROLE /* redacted whole: non-ASCII text in client_encoding SJIS, which is not"
                + " ASCII-safe */");
    assertThat(CREDENTIALS.redact("hunter2 password", LexicalSettings.DEFAULT.withSettled(false)))
        .isSameAs("hunter2 password"); // no backslash, no non-ASCII: lexed as usual
    assertThat(CREDENTIALS.redact("ALTER ROLE x PASSWORD 'a\0b'", LexicalSettings.DEFAULT))
        .isEqualTo("ALTER ROLE /* redacted whole: the text holds a NUL character */");
    assertThat(CREDENTIALS.redact("ALTER ROLE x PASSWORD '\uD800'", LexicalSettings.DEFAULT))
        .isEqualTo(
            "ALTER ROLE /* redacted whole: the text is not valid Unicode (an unpaired surrogate)"
                + " */");
  }

  @Test
  void theWholeTextKeepsOnlyCommandWords() {
    assertThat(PostgresRedactor.whole("hunter2 PASSWORD", "r"))
        .isEqualTo("/* redacted whole: r */");
    assertThat(PostgresRedactor.whole("ALTER USER hunter2", "r"))
        .isEqualTo("ALTER USER /* redacted whole: r */");
    assertThat(PostgresRedactor.whole("  select\n* from t", "r"))
        .isEqualTo("select /* redacted whole: r */");
  }

  @Test
  void aPlainTextOnAVirtualThreadWithStandardStringsOffIsRedactedWhole() throws Exception {
    String sql = "ALTER ROLE x PASSWORD 'a\\' hunter2'";
    String[] out = new String[1];
    Thread t = Thread.ofVirtual().start(() -> out[0] = CREDENTIALS.redact(sql, NON_STANDARD));
    t.join();
    assertThat(out[0]).startsWith("ALTER ROLE /* redacted whole:").doesNotContain("hunter2");
    // and the platform thread's lexer still lexes with standard strings afterwards
    assertThat(CREDENTIALS.redact(sql, NON_STANDARD)).isEqualTo("ALTER ROLE x PASSWORD '***'");
  }

  @Test
  void lexingWithoutStandardStringsRestoresTheSettingForTheAnalyser() {
    PgQuery pgQuery = PgQuery.load();
    String sql = "SELECT 'a\\'; DROP TABLE t; --'";
    assertThat(pgQuery.scanWithoutStandardStrings(sql).tokens()).hasSize(2);
    // the analyser on this thread must see the DROP again
    assertThat(pgQuery.scan(sql).tokens().size()).isGreaterThan(2);
  }

  @Test
  @Timeout(60)
  void nestingCostsLinearTimeNotQuadratic() {
    // 60 000 nested key-function calls: each would mark its whole range again without the
    // containment check (some 10^9 steps), a denial of service of the audit writer
    int depth = 60_000;
    String sql = "SELECT " + "pgp_sym_encrypt('k', ".repeat(depth) + "'x'" + ")".repeat(depth);
    String out = CREDENTIALS.redact(sql, LexicalSettings.DEFAULT);
    assertThat(out).doesNotContain("'k'").doesNotContain("'x'").contains("'***'");
    String sets = "SET a.secret = x " + "SET b.secret = y ".repeat(depth);
    assertThat(CREDENTIALS.redact(sets, LexicalSettings.DEFAULT)).doesNotContain(" x ");
  }

  @Test
  void nullsAreRefusedWithAClearMessage() {
    assertThatThrownBy(() -> CREDENTIALS.redact(null, LexicalSettings.DEFAULT))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("statement text");
    assertThatThrownBy(() -> CREDENTIALS.redact("x", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("lexical settings");
    assertThatThrownBy(() -> new PostgresRedactor(null)).isInstanceOf(NullPointerException.class);
  }
}
