package dev.warden.server.masking;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One case of the masking bypass corpus ({@code masking/corpus.txt}): the statements a client
 * sends, in order, on one session.
 *
 * @param id e.g. {@code M01-07}
 * @param line where the case starts in the file
 * @param statements one or more statements, each sent on its own (psql, extended and raw) or
 *     together in one Query (simple protocol)
 */
record MaskingCase(String id, int line, List<String> statements) {
  static final String RESOURCE = "/masking/corpus.txt";

  private static final Pattern START = Pattern.compile("^(M(\\d\\d)-\\d\\d) (\\S.*)$");

  /** Words of statements after which a session is not the one it was (settings, cursors, temp). */
  private static final Set<String> SESSION_WORDS =
      Set.of(
          "set",
          "reset",
          "prepare",
          "declare",
          "listen",
          "temp",
          "temporary",
          "set_config",
          "discard",
          "with hold");

  MaskingCase {
    statements = List.copyOf(statements);
  }

  /** The THREATS row, e.g. {@code M01}. */
  String row() {
    return id.substring(0, 3);
  }

  /** Whether the case leaves state in its session that later cases must not inherit. */
  boolean changesSession() {
    String text = String.join(" ", statements).toLowerCase(Locale.ROOT);
    for (String word : SESSION_WORDS) {
      if (Pattern.compile("\\b" + word + "\\b").matcher(text).find()) {
        return true;
      }
    }
    return false;
  }

  /** Whether the case may send notifications to the listening session. */
  boolean notifies() {
    return String.join(" ", statements).toLowerCase(Locale.ROOT).contains("notify");
  }

  /** The id and the statements on one line, for test names and reports. */
  String display() {
    String text = String.join("; ", statements);
    return id + " " + (text.length() > 140 ? text.substring(0, 137) + "..." : text);
  }

  /** Every case of the corpus, in file order; a malformed file fails loudly with its line. */
  static List<MaskingCase> load() throws IOException {
    List<MaskingCase> cases = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    try (InputStream in = MaskingCase.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException(RESOURCE + " is not on the test class path");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String id = null;
      int start = 0;
      List<String> statements = new ArrayList<>();
      int number = 0;
      String text;
      while ((text = reader.readLine()) != null) {
        number++;
        if (text.isBlank() || text.startsWith("#")) {
          continue;
        }
        if (text.startsWith(" ")) {
          if (id == null) {
            throw new IOException(RESOURCE + ":" + number + ": a continuation line before a case");
          }
          statements.add(text.strip());
          continue;
        }
        Matcher m = START.matcher(text);
        if (!m.matches()) {
          throw new IOException(RESOURCE + ":" + number + ": not 'MNN-KK statement': " + text);
        }
        int row = Integer.parseInt(m.group(2));
        if (row < 1 || row > 20) {
          throw new IOException(RESOURCE + ":" + number + ": no THREATS row M" + m.group(2));
        }
        if (!ids.add(m.group(1))) {
          throw new IOException(RESOURCE + ":" + number + ": duplicate id " + m.group(1));
        }
        if (id != null) {
          cases.add(new MaskingCase(id, start, statements));
        }
        id = m.group(1);
        start = number;
        statements = new ArrayList<>();
        statements.add(m.group(3).strip());
      }
      if (id != null) {
        cases.add(new MaskingCase(id, start, statements));
      }
    }
    return List.copyOf(cases);
  }
}
