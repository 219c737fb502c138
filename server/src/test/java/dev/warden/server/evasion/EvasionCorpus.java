package dev.warden.server.evasion;

import dev.warden.server.evasion.Seed.Expect;
import dev.warden.server.evasion.SqlTokens.Kind;
import dev.warden.server.evasion.SqlTokens.Token;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * The corpus: every seed in every delivery that applies to it, plus deterministic mutations of the
 * seeds (THREATS G02-G04: case, whitespace, comments, quoting, string forms, schema qualification,
 * hiding behind an allowed statement). Each mutation keeps the seed's meaning, so it keeps the
 * seed's verdict; the random choices come from a generator seeded by the seed's text, so the corpus
 * (and its count) is the same on every run and a seed added later does not reshuffle the others.
 */
final class EvasionCorpus {
  /** Mutants generated per mutable seed (before removing duplicates). */
  static final int MUTANTS_PER_SEED = 3;

  /** Fixture tables: may be schema-qualified and quoted. */
  private static final Set<String> TABLES = Set.of("users", "orders", "canary", "active_users");

  /** Other fixture names: may be quoted. */
  private static final Set<String> NAMES =
      Set.of("id", "email", "secret", "amount", "status", "label", "user_id", "items", "app");

  private static final Set<String> PREPARABLE =
      Set.of("select", "insert", "update", "delete", "with", "values", "table", "merge");

  private static final String[] SPACES = {" ", "\t", "\n", "\r\n", "  ", "\f", " \t\n ", "\n\n"};
  private static final String[] HIDERS = {
    "SELECT 1; ", "SELECT count(*) FROM users; ", "SHOW work_mem; "
  };

  private enum Mutation {
    CASE,
    SPACE,
    BLOCK_COMMENT,
    NESTED_COMMENT,
    LINE_COMMENT,
    QUOTE,
    UNICODE_IDENT,
    QUALIFY,
    STRING_FORM,
    HIDE,
    TRAILING
  }

  private EvasionCorpus() {}

  static List<EvasionCase> cases() {
    return cases(Seed.load());
  }

  static List<EvasionCase> cases(List<Seed> seeds) {
    List<EvasionCase> cases = new ArrayList<>();
    for (Seed seed : seeds) {
      for (Delivery d : deliveries(seed, seed.sql())) {
        cases.add(new EvasionCase(cases.size() + 1, seed, "seed", seed.sql(), d, seed.deniedAt()));
      }
      if (seed.has("nomut")) {
        continue;
      }
      Set<String> seen = new LinkedHashSet<>();
      seen.add(seed.sql());
      for (int k = 0; k < MUTANTS_PER_SEED; k++) {
        Random random = new Random(seed.sql().hashCode() * 1_000_003L + k);
        Mutant mutant = mutate(seed, random);
        if (!seen.add(mutant.sql())) {
          continue;
        }
        List<Delivery> possible = deliveries(seed, mutant.sql());
        Delivery d = possible.get(random.nextInt(possible.size()));
        cases.add(
            new EvasionCase(
                cases.size() + 1, seed, mutant.name(), mutant.sql(), d, mutant.deniedAt()));
      }
    }
    return List.copyOf(cases);
  }

  /** The seeds the non-production environment must let through. */
  static List<Seed> stagingSample(List<Seed> seeds) {
    return seeds.stream().filter(s -> s.has("staging")).toList();
  }

  static List<Delivery> deliveries(Seed seed, String sql) {
    EnumSet<Delivery> set = EnumSet.of(Delivery.SIMPLE, Delivery.EXTENDED);
    List<String> statements = SqlTokens.statements(sql);
    boolean single = statements.size() == 1;
    String first = single ? firstWord(statements.getFirst()) : "";
    boolean preparable =
        single && PREPARABLE.contains(first) && !seed.has("noprep") && !seed.has("rejects");
    if (preparable) {
      set.add(Delivery.NAMED);
      boolean hasParam = SqlTokens.tokenize(sql).stream().anyMatch(t -> t.kind() == Kind.PARAM);
      if (!hasParam) {
        set.add(Delivery.SQL_PREPARE);
      }
    }
    boolean returnsRows =
        !Set.of("insert", "update", "delete", "merge").contains(first)
            || SqlTokens.tokenize(sql).stream().anyMatch(t -> t.isWord("returning"));
    if (seed.expect() == Expect.DENY || (single && !returnsRows)) {
      set.add(Delivery.BATCH);
    }
    return List.copyOf(set);
  }

  private static String firstWord(String statement) {
    for (Token t : SqlTokens.tokenize(statement)) {
      if (t.kind() == Kind.WORD) {
        return t.text().toLowerCase(Locale.ROOT);
      }
      if (t.kind() != Kind.SPACE
          && t.kind() != Kind.LINE_COMMENT
          && t.kind() != Kind.BLOCK_COMMENT
          && !t.text().equals("(")) {
        return "";
      }
    }
    return "";
  }

  private record Mutant(String name, String sql, int deniedAt) {}

  private static Mutant mutate(Seed seed, Random random) {
    List<Mutation> all = new ArrayList<>(List.of(Mutation.values()));
    int count = 2 + random.nextInt(2);
    List<Mutation> chosen = new ArrayList<>();
    while (chosen.size() < count) {
      Mutation m = all.remove(random.nextInt(all.size()));
      chosen.add(m);
    }
    // HIDE and TRAILING change the statement list; apply them last so the others see one text.
    chosen.sort((a, b) -> Boolean.compare(isTail(a), isTail(b)));
    String sql = seed.sql();
    int deniedAt = seed.deniedAt();
    List<String> applied = new ArrayList<>();
    for (Mutation m : chosen) {
      String before = sql;
      switch (m) {
        case CASE -> sql = mapWords(sql, w -> randomCase(w, random), random, 1.0);
        case SPACE -> sql = mapSpaces(sql, s -> SPACES[random.nextInt(SPACES.length)]);
        case BLOCK_COMMENT -> sql = commentSpaces(sql, random, "/**/", "/* warden */");
        case NESTED_COMMENT ->
            sql = commentSpaces(sql, random, "/* /* nested */ */", "/*/**/*/", "/* a /* b */ c */");
        case LINE_COMMENT -> {
          sql = commentSpaces(sql, random, " -- c\n", "--\n", "-- ; DROP TABLE x\n");
          if (random.nextBoolean()) {
            sql = sql + " --";
          }
        }
        case QUOTE -> sql = quoteNames(sql, random, false);
        case UNICODE_IDENT -> sql = quoteNames(sql, random, true);
        case QUALIFY -> sql = qualifyTables(sql, random);
        case STRING_FORM -> sql = stringForms(sql, random);
        case HIDE -> {
          if (seed.has("single")) {
            // the statement must be alone in its message (e.g. DISCARD ALL outside a pipeline)
          } else if (seed.expect() == Expect.DENY) {
            sql = HIDERS[random.nextInt(HIDERS.length)] + sql;
            deniedAt++;
          } else if (!endsWithLineComment(sql)) {
            sql = sql + "; SELECT 2";
          } else {
            sql = "SELECT 0; " + sql;
          }
        }
        case TRAILING -> {
          if (!endsWithLineComment(sql)) {
            sql = sql + (random.nextBoolean() ? ";" : " ;;");
          }
        }
      }
      if (!sql.equals(before)) {
        applied.add(m.name().toLowerCase(Locale.ROOT));
      }
    }
    if (applied.isEmpty()) {
      sql = mapSpaces(sql, s -> "\n\t");
      applied.add("space");
    }
    return new Mutant(String.join("+", applied), sql, deniedAt);
  }

  private static boolean isTail(Mutation m) {
    return m == Mutation.HIDE || m == Mutation.TRAILING;
  }

  private static boolean endsWithLineComment(String sql) {
    List<Token> tokens = SqlTokens.tokenize(sql);
    if (tokens.isEmpty() || tokens.getLast().kind() != Kind.LINE_COMMENT) {
      return false;
    }
    String last = tokens.getLast().text();
    return !last.endsWith("\n") && !last.endsWith("\r");
  }

  private static String mapWords(
      String sql, java.util.function.UnaryOperator<String> f, Random random, double p) {
    List<Token> out = new ArrayList<>();
    for (Token t : SqlTokens.tokenize(sql)) {
      if (t.kind() == Kind.WORD && random.nextDouble() < p) {
        out.add(new Token(Kind.WORD, f.apply(t.text())));
      } else {
        out.add(t);
      }
    }
    return SqlTokens.join(out);
  }

  private static String randomCase(String word, Random random) {
    return switch (random.nextInt(3)) {
      case 0 -> word.toUpperCase(Locale.ROOT);
      case 1 -> word.toLowerCase(Locale.ROOT);
      default -> {
        StringBuilder sb = new StringBuilder();
        for (char c : word.toCharArray()) {
          sb.append(random.nextBoolean() ? Character.toUpperCase(c) : Character.toLowerCase(c));
        }
        yield sb.toString();
      }
    };
  }

  private static String mapSpaces(String sql, java.util.function.UnaryOperator<String> f) {
    List<Token> out = new ArrayList<>();
    for (Token t : SqlTokens.tokenize(sql)) {
      out.add(t.kind() == Kind.SPACE ? new Token(Kind.SPACE, f.apply(t.text())) : t);
    }
    return SqlTokens.join(out);
  }

  /** Replaces some of the space between tokens with a comment, which the server reads as space. */
  private static String commentSpaces(String sql, Random random, String... comments) {
    List<Token> out = new ArrayList<>();
    boolean any = false;
    List<Token> tokens = SqlTokens.tokenize(sql);
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      if (t.kind() == Kind.SPACE && (random.nextInt(3) == 0 || (!any && isLastSpace(tokens, i)))) {
        String comment = comments[random.nextInt(comments.length)];
        String text =
            switch (random.nextInt(3)) {
              case 0 -> comment;
              case 1 -> " " + comment;
              default -> comment + t.text();
            };
        if (comment.startsWith("--") && !text.endsWith("\n")) {
          text = text + "\n";
        }
        out.add(new Token(Kind.BLOCK_COMMENT, text));
        any = true;
      } else {
        out.add(t);
      }
    }
    return SqlTokens.join(out);
  }

  private static boolean isLastSpace(List<Token> tokens, int index) {
    for (int i = index + 1; i < tokens.size(); i++) {
      if (tokens.get(i).kind() == Kind.SPACE) {
        return false;
      }
    }
    return true;
  }

  private static String quoteNames(String sql, Random random, boolean unicode) {
    List<Token> out = new ArrayList<>();
    for (Token t : SqlTokens.tokenize(sql)) {
      String lower = t.text().toLowerCase(Locale.ROOT);
      if (t.kind() == Kind.WORD
          && (TABLES.contains(lower) || NAMES.contains(lower))
          && random.nextInt(3) != 0) {
        out.add(new Token(Kind.QUOTED_IDENT, unicode ? unicodeIdent(lower, random) : quote(lower)));
      } else {
        out.add(t);
      }
    }
    return SqlTokens.join(out);
  }

  private static String quote(String name) {
    return "\"" + name + "\"";
  }

  private static String unicodeIdent(String name, Random random) {
    StringBuilder sb = new StringBuilder("U&\"");
    int escaped = random.nextInt(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (i == escaped || random.nextInt(4) == 0) {
        sb.append(String.format("\\%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  private static String qualifyTables(String sql, Random random) {
    List<Token> tokens = SqlTokens.tokenize(sql);
    List<Token> out = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      boolean afterDot = i > 0 && tokens.get(i - 1).text().equals(".");
      if (t.kind() == Kind.WORD
          && TABLES.contains(t.text().toLowerCase(Locale.ROOT))
          && !afterDot
          && random.nextInt(4) != 0) {
        String schema =
            switch (random.nextInt(3)) {
              case 0 -> "public.";
              case 1 -> "PUBLIC.";
              default -> "\"public\".";
            };
        out.add(new Token(Kind.WORD, schema + t.text()));
      } else {
        out.add(t);
      }
    }
    return SqlTokens.join(out);
  }

  /** Rewrites plain '…' literals as E'…', $$…$$, $q$…$q$ or U&'…' with the same value. */
  private static String stringForms(String sql, Random random) {
    List<Token> out = new ArrayList<>();
    for (Token t : SqlTokens.tokenize(sql)) {
      String body = t.text().length() >= 2 ? t.text().substring(1, t.text().length() - 1) : "";
      boolean plain =
          t.kind() == Kind.STRING
              && t.text().endsWith("'")
              && body.indexOf('\'') < 0
              && body.indexOf('\\') < 0
              && body.indexOf('$') < 0;
      if (!plain) {
        out.add(t);
        continue;
      }
      String text =
          switch (random.nextInt(4)) {
            case 0 -> "E'" + body + "'";
            case 1 -> "$$" + body + "$$";
            case 2 -> "$q$" + body + "$q$";
            default -> {
              StringBuilder sb = new StringBuilder("U&'");
              for (char c : body.toCharArray()) {
                if (Character.isLetter(c) && random.nextBoolean()) {
                  sb.append(String.format("\\%04x", (int) c));
                } else {
                  sb.append(c);
                }
              }
              yield sb.append('\'').toString();
            }
          };
      out.add(new Token(Kind.OTHER_STRING, text));
    }
    return SqlTokens.join(out);
  }
}
