package dev.warden.core.masking;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A content detector the policy file adds: a Java regular expression the whole value (surrounding
 * whitespace aside) must match. Standard detectors validate structure; an operator's pattern only
 * matches shape, so it is meant for in-house identifiers (employee numbers, customer references)
 * whose shape is distinctive.
 *
 * <p>A pattern cannot stall a scan: values longer than {@link #MAX_VALUE_LENGTH} are not examined,
 * and a match that reads the value more than a bounded number of times (catastrophic backtracking)
 * is stopped and counts as a match, so that the value is masked rather than let through.
 */
public final class PatternDetector implements ContentDetector {
  /** Values longer than this are not examined by a policy's pattern. */
  public static final int MAX_VALUE_LENGTH = 4096;

  /** Patterns longer than this are refused when policy loads. */
  public static final int MAX_PATTERN_LENGTH = 1000;

  private static final int BASE_BUDGET = 100_000;
  private static final int BUDGET_PER_CHAR = 100;

  private final String name;
  private final DataKind kind;
  private final Pattern pattern;

  private PatternDetector(String name, DataKind kind, Pattern pattern) {
    this.name = name;
    this.kind = kind;
    this.pattern = pattern;
  }

  /**
   * Compiles a policy's detector.
   *
   * @throws PatternSyntaxException when {@code regex} does not compile
   * @throws IllegalArgumentException when {@code regex} is longer than {@link #MAX_PATTERN_LENGTH}
   */
  public static PatternDetector compile(String name, DataKind kind, String regex) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(regex, "regex");
    if (regex.length() > MAX_PATTERN_LENGTH) {
      throw new IllegalArgumentException(
          "the pattern is longer than " + MAX_PATTERN_LENGTH + " characters");
    }
    return new PatternDetector(name, kind, Pattern.compile(regex));
  }

  /** The detector's name in the policy file. */
  public String name() {
    return name;
  }

  /** The regular expression, as the policy file gives it. */
  public String pattern() {
    return pattern.pattern();
  }

  @Override
  public DataKind kind() {
    return kind;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.isEmpty() || s.length() > MAX_VALUE_LENGTH) {
      return false;
    }
    Budgeted text = new Budgeted(s, BASE_BUDGET + BUDGET_PER_CHAR * s.length());
    try {
      return pattern.matcher(text).matches();
    } catch (Budgeted.Exhausted e) {
      return true;
    } catch (RuntimeException | StackOverflowError e) {
      // A deeply recursive pattern on a long value: fail closed, as for an exhausted budget.
      return true;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PatternDetector d
        && d.name.equals(name)
        && d.kind == kind
        && d.pattern.pattern().equals(pattern.pattern());
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, kind, pattern.pattern());
  }

  @Override
  public String toString() {
    return "PatternDetector[" + name + ", " + kind + "]";
  }

  /** The value, readable a bounded number of times: the regex engine reads through charAt. */
  private static final class Budgeted implements CharSequence {
    private final String text;
    private int budget;

    Budgeted(String text, int budget) {
      this.text = text;
      this.budget = budget;
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public char charAt(int index) {
      if (--budget < 0) {
        throw new Exhausted();
      }
      return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Budgeted(text.substring(start, end), budget);
    }

    @Override
    public String toString() {
      return text;
    }

    static final class Exhausted extends RuntimeException {
      Exhausted() {
        super("regular expression budget exhausted", null, false, false);
      }
    }
  }
}
