package dev.warden.sql.postgres;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.core.statement.Statement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * PostgreSQL's statement analyser: PostgreSQL 15's own lexer and parser (libpg_query, through
 * {@link PgQuery}) split and parse the text, and the parse tree is walked into facts. Nothing is
 * guessed from the text's look: what the parser does not accept, or what Warden cannot lex as the
 * server will ({@link LexicalRules}), is UNKNOWN with the reason.
 *
 * <p>A repeated statement costs a hash lookup. The first cache maps the exact text to its analysis.
 * The second maps a literal-free key ({@link LiteralFreeKey}, from the lexer alone) to the analysis
 * of plain DML (SELECT, INSERT, UPDATE, DELETE, MERGE), so texts differing only in constants skip
 * the parse; an analysis is put there only if no fact was taken from a constant's value (a
 * trivially true WHERE, a set_config argument, a sequence name, ...). Texts longer than {@link
 * #MAX_CACHED_CHARS} are not cached.
 *
 * <p>Thread-safe: libpg_query works per thread and the caches are concurrent. Never throws: an
 * internal failure is an UNKNOWN analysis naming it.
 */
public final class PostgresAnalyzer implements SqlAnalyzer {
  /** Longest text (in chars) whose analysis is cached. */
  public static final int MAX_CACHED_CHARS = 4096;

  private static final Set<String> SHAREABLE_TYPES =
      Set.of(
          "SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "TransactionStmt");

  private final PgQuery pgQuery;
  private final ObjectMapper json = new ObjectMapper();
  private final Cache<String, Analysis> byText;
  private final Cache<String, Analysis> byKey;
  private final boolean caching;

  /**
   * Loads libpg_query and sizes both caches: each holds up to {@code cacheEntries} texts under 1
   * KiB (a longer text counts once per KiB); 0 turns caching off (every text is parsed).
   *
   * @throws PgQueryUnavailableException if libpg_query is not installed
   */
  public PostgresAnalyzer(int cacheEntries) {
    if (cacheEntries < 0) {
      throw new IllegalArgumentException("cacheEntries must not be negative: " + cacheEntries);
    }
    this.pgQuery = PgQuery.load();
    this.caching = cacheEntries > 0;
    // weighed in KiB of text, so that a cache of long texts holds fewer of them
    this.byText =
        Caffeine.newBuilder()
            .maximumWeight(cacheEntries)
            .executor(Runnable::run) // evict on the caller: no wake-ups of a shared pool
            .<String, Analysis>weigher((text, analysis) -> 1 + text.length() / 1024)
            .build();
    this.byKey =
        Caffeine.newBuilder()
            .maximumWeight(cacheEntries)
            .executor(Runnable::run)
            .<String, Analysis>weigher((key, analysis) -> 1 + key.length() / 1024)
            .build();
  }

  /** With room for 10 000 short texts per cache (a text counts once per KiB). */
  public PostgresAnalyzer() {
    this(10_000);
  }

  @Override
  public Analysis analyze(String sql, LexicalSettings settings) {
    if (sql == null || settings == null) {
      return Analysis.unknown("no text to analyse");
    }
    Optional<String> refusal = LexicalRules.refusal(sql, settings);
    if (refusal.isPresent()) {
      return Analysis.unknown(refusal.get());
    }
    boolean cacheable = caching && sql.length() <= MAX_CACHED_CHARS;
    if (cacheable) {
      Analysis cached = byText.getIfPresent(sql);
      if (cached != null) {
        return cached;
      }
    }
    Found found;
    try {
      found = analyzeUncached(sql, cacheable);
    } catch (RuntimeException | StackOverflowError e) {
      // The exception's class only: its message may quote the text, which may hold a secret.
      return Analysis.unknown(
          "the analyser failed on this text (" + e.getClass().getSimpleName() + ")");
    }
    Analysis analysis = found.analysis();
    if (cacheable && !found.byKey()) {
      // A text served by its literal-free key is not kept as well: texts that differ only in
      // constants (pgbench -M simple) would each take an entry and push out the ones that repeat.
      byText.put(sql, analysis);
    }
    return analysis;
  }

  /** An analysis, and whether it came from the literal-free cache. */
  private record Found(Analysis analysis, boolean byKey) {}

  private Found analyzeUncached(String sql, boolean cacheable) {
    if (sql.indexOf('\0') >= 0) {
      return new Found(
          Analysis.unknown(
              "the text holds a NUL character: the server would read only the part before it"),
          false);
    }
    if (!validUnicode(sql)) {
      return new Found(
          Analysis.unknown("the text is not valid Unicode (an unpaired surrogate)"), false);
    }
    byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
    PgQuery.ScanResult scan = pgQuery.scan(sql);
    if (scan.error().isPresent()) {
      return new Found(Analysis.unknown("syntax error: " + scan.error().get().describe()), false);
    }
    LiteralFreeKey.Key key = LiteralFreeKey.of(utf8, scan.tokens());
    if (cacheable && key.shareable()) {
      Analysis shared = byKey.getIfPresent(key.text());
      if (shared != null) {
        return new Found(
            shared, true); // its fingerprint is this key's: computed once, when it was stored
      }
    }
    String fingerprint = LiteralFreeKey.fingerprint(key.text());
    PgQuery.ParseResult parsed = pgQuery.parse(sql);
    if (parsed.error().isPresent()) {
      return new Found(Analysis.unknown("syntax error: " + parsed.error().get().describe()), false);
    }
    JsonNode tree;
    try {
      tree = json.readTree(parsed.json().orElseThrow());
    } catch (JacksonException e) {
      return new Found(Analysis.unknown("the statement is nested too deeply to analyse"), false);
    }
    Constants constants = new Constants(utf8);
    Classifier classifier = new Classifier(constants);
    List<Statement> statements = new ArrayList<>();
    boolean shareable = key.shareable();
    for (JsonNode raw : tree.path("stmts")) {
      JsonNode stmt = raw.path("stmt");
      shareable &= stmt.size() == 1 && SHAREABLE_TYPES.contains(stmt.fieldNames().next());
      statements.add(classifier.classify(stmt));
    }
    Analysis analysis = new Analysis(statements, fingerprint);
    if (cacheable && shareable && !constants.anyRead()) {
      byKey.put(key.text(), analysis);
    }
    return new Found(analysis, false);
  }

  private static boolean validUnicode(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
