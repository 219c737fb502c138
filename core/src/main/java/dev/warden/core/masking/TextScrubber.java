package dev.warden.core.masking;

import java.util.List;
import java.util.function.Function;

/**
 * Masks the sensitive words of free text: error and notice fields, notification payloads. The
 * server quotes values in its messages ({@code invalid input syntax for type integer:
 * "alice@example.com"}), so every word is put to the content detectors, and every word one of them
 * recognises is replaced in place by the mask of its kind.
 *
 * <p>Words are cut at whitespace, quotes, brackets of every shape, {@code = , : ;}; a word is also
 * tried whole up to the next whitespace, quote or bracket (so an IPv6 address or an argon2 hash,
 * which hold {@code :} or {@code =}, is seen as one). An apostrophe between two letters or digits
 * belongs to its word ({@code o'reilly@example.com}). Runs of short groups with digits separated by
 * single spaces, hyphens or dots are tried together, so that {@code +1 415 555 0100} and {@code
 * DE89 3704 0044 0532 0130 00} are found although they span words. PEM private-key blocks are
 * masked whole (to the end of the text when the END line is missing). Linear in the text's length,
 * bar a bounded factor for the grouped runs.
 */
final class TextScrubber {
  /** The longest run of groups tried as one value. */
  private static final int MAX_GROUPED_LENGTH = 48;

  /** The longest group of a grouped run (e.g. {@code (415)}). */
  private static final int MAX_GROUP_LENGTH = 6;

  /** Grouped runs with fewer digits are not tried. */
  private static final int MIN_GROUPED_DIGITS = 7;

  private static final String PEM_BEGIN = "-----BEGIN ";
  private static final String PEM_END = "-----END ";
  private static final String DASHES = "-----";

  private final String text;
  private final List<ContentDetector> detectors;
  private final Function<DataKind, ColumnMask> masks;
  private StringBuilder out;
  private int copied;

  private TextScrubber(
      String text, List<ContentDetector> detectors, Function<DataKind, ColumnMask> masks) {
    this.text = text;
    this.detectors = detectors;
    this.masks = masks;
  }

  /** {@code text} with its sensitive words masked; {@code text} itself when there are none. */
  static String scrub(
      String text, List<ContentDetector> detectors, Function<DataKind, ColumnMask> masks) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    return new TextScrubber(text, detectors, masks).run();
  }

  private String run() {
    int n = text.length();
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      boolean boundary = i == 0 || delimiterAt(i - 1);
      if (c == '-' && text.startsWith(PEM_BEGIN, i)) {
        int end = privateKeyEnd(i);
        if (end > 0) {
          replace(i, end, DataKind.PRIVATE_KEY);
          i = end;
          continue;
        }
      }
      if (boundary && groupStart(c)) {
        int end = grouped(i);
        if (end > 0) {
          i = end;
          continue;
        }
      }
      if (delimiterAt(i)) {
        i++;
        continue;
      }
      if (i == 0 || coarseAt(i - 1)) {
        int end = i;
        while (end < n && !coarseAt(end)) {
          end++;
        }
        if (word(i, end)) {
          i = end;
          continue;
        }
      }
      int end = i;
      while (end < n && !delimiterAt(end)) {
        end++;
      }
      word(i, end);
      i = end;
    }
    if (out == null) {
      return text;
    }
    return out.append(text, copied, n).toString();
  }

  /**
   * Masks {@code [from, end)} without leading apostrophes, or the same without trailing punctuation
   * and apostrophes, if it is sensitive.
   */
  private boolean word(int from, int end) {
    int start = from;
    while (start < end && text.charAt(start) == '\'') {
      start++;
    }
    if (end - start < 3) {
      return false;
    }
    DataKind kind = detect(text.substring(start, end));
    int trimmed = end;
    while (kind == null && trimmed > start && ".,;:!?'".indexOf(text.charAt(trimmed - 1)) >= 0) {
      trimmed--;
      if (trimmed - start >= 3) {
        kind = detect(text.substring(start, trimmed));
      }
    }
    if (kind == null) {
      return false;
    }
    replace(start, trimmed, kind);
    return true;
  }

  /**
   * The end of the longest run of at least two groups starting at {@code start} that a detector
   * recognises (masked here), or -1.
   */
  private int grouped(int start) {
    int n = text.length();
    int limit = Math.min(n, start + MAX_GROUPED_LENGTH);
    int[] ends = new int[MAX_GROUPED_LENGTH];
    int[] digitsBefore = new int[MAX_GROUPED_LENGTH];
    int groups = 0;
    int digits = 0;
    int i = start;
    while (i < limit) {
      // A group: an optional '+' or an opening parenthesis, letters and digits (with a digit
      // among them), the closing parenthesis if it opened with one.
      int g = i;
      char first = text.charAt(g);
      boolean paren = first == '(';
      if (paren || first == '+') {
        g++;
      }
      boolean digit = false;
      while (g < limit && g - i < MAX_GROUP_LENGTH && Text.isAlnum(text.charAt(g))) {
        if (Text.isDigit(text.charAt(g))) {
          digit = true;
          digits++;
        }
        g++;
      }
      if (paren) {
        if (g < limit && text.charAt(g) == ')') {
          g++;
        } else {
          break;
        }
      }
      if (!digit || (g < n && Text.isAlnum(text.charAt(g)))) {
        break;
      }
      digitsBefore[groups] = digits;
      ends[groups++] = g;
      if (g + 1 < limit && separator(text.charAt(g)) && groupStart(text.charAt(g + 1))) {
        i = g + 1;
      } else {
        break;
      }
    }
    // Every grouped format Warden detects has seven digits at least.
    for (int k = groups - 1; k >= 1 && digitsBefore[k] >= MIN_GROUPED_DIGITS; k--) {
      DataKind kind = detect(text.substring(start, ends[k]));
      if (kind != null) {
        replace(start, ends[k], kind);
        return ends[k];
      }
    }
    return -1;
  }

  /** The end of a PEM private-key block starting at {@code start}, or -1 if it is no such block. */
  private int privateKeyEnd(int start) {
    int headerEnd = text.indexOf(DASHES, start + PEM_BEGIN.length());
    if (headerEnd < 0
        || headerEnd - start > 80
        || !text.substring(start, headerEnd).contains("PRIVATE KEY")) {
      return -1;
    }
    int end = text.indexOf(PEM_END, headerEnd + DASHES.length());
    if (end < 0) {
      return text.length();
    }
    int close = text.indexOf(DASHES, end + PEM_END.length());
    return close < 0 ? text.length() : close + DASHES.length();
  }

  private DataKind detect(String word) {
    for (ContentDetector detector : detectors) {
      try {
        if (detector.matches(word)) {
          return detector.kind();
        }
      } catch (RuntimeException e) {
        // A policy's detector that throws recognises nothing; the others still run.
      }
    }
    return null;
  }

  private void replace(int start, int end, DataKind kind) {
    String word = text.substring(start, end);
    String masked = masks.apply(kind).mask(word, ValueType.TEXT);
    if (masked == null) {
      masked = StrategyMask.marker(java.util.Optional.of(kind));
    }
    if (out == null) {
      out = new StringBuilder(text.length() + 16);
    }
    out.append(text, copied, start).append(masked);
    copied = end;
  }

  /** Whitespace, quotes and brackets: the ends of a word tried whole. */
  private static boolean coarse(char c) {
    return Character.isWhitespace(c) || "\"'`()[]{}<>".indexOf(c) >= 0;
  }

  /** As {@link #coarse(char)} at {@code i}, except an apostrophe inside a word (o'reilly). */
  private boolean coarseAt(int i) {
    return coarse(text.charAt(i)) && !apostropheInWord(i);
  }

  /** As {@link #delimiter(char)} at {@code i}, except an apostrophe inside a word. */
  private boolean delimiterAt(int i) {
    return delimiter(text.charAt(i)) && !apostropheInWord(i);
  }

  private boolean apostropheInWord(int i) {
    return text.charAt(i) == '\''
        && i > 0
        && i + 1 < text.length()
        && Character.isLetterOrDigit(text.charAt(i - 1))
        && Character.isLetterOrDigit(text.charAt(i + 1));
  }

  /** Every character that ends a word. */
  private static boolean delimiter(char c) {
    return coarse(c) || "=,:;".indexOf(c) >= 0;
  }

  private static boolean groupStart(char c) {
    return Text.isAlnum(c) || c == '+' || c == '(';
  }

  private static boolean separator(char c) {
    return c == ' ' || c == '-' || c == '.';
  }
}
