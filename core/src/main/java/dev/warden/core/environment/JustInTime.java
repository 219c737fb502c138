package dev.warden.core.environment;

import dev.warden.core.identity.Identity;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a named role mapping is reached for a while through an access window: who may ask, who
 * approves, how many, and for how long at most. A window opens when its request is approved and
 * ends at approval time plus the duration asked for.
 *
 * @param approvers the groups whose members approve a request; never the requester
 * @param minApprovals how many distinct reviewers must approve (at least 1)
 * @param maxDuration the longest window a request may ask for
 * @param requestableBy the groups whose members may ask; empty means anyone the environment admits
 * @param breakGlass whether one reviewer may approve alone with a written justification
 */
public record JustInTime(
    Set<String> approvers,
    int minApprovals,
    Duration maxDuration,
    Set<String> requestableBy,
    boolean breakGlass) {
  /** The group whose members approve by default. */
  public static final String DEFAULT_APPROVERS = "approvers";

  /** The longest window by default. */
  public static final Duration DEFAULT_MAX_DURATION = Duration.ofHours(8);

  /** The shortest window anyone may ask for or configure. */
  public static final Duration MIN_DURATION = Duration.ofMinutes(1);

  /** The longest window anyone may configure. */
  public static final Duration LONGEST = Duration.ofDays(7);

  /** One approval from {@code approvers}, up to eight hours, requestable by anyone admitted. */
  public static final JustInTime DEFAULT =
      new JustInTime(Set.of(DEFAULT_APPROVERS), 1, DEFAULT_MAX_DURATION, Set.of(), false);

  private static final Pattern PART = Pattern.compile("([0-9]{1,6})([dhms])");

  public JustInTime {
    approvers = Set.copyOf(approvers);
    if (approvers.isEmpty()) {
      throw new IllegalArgumentException("just-in-time access needs at least one approver group");
    }
    if (minApprovals < 1) {
      throw new IllegalArgumentException("min-approvals must be at least 1");
    }
    Objects.requireNonNull(maxDuration, "maxDuration");
    if (maxDuration.compareTo(MIN_DURATION) < 0 || maxDuration.compareTo(LONGEST) > 0) {
      throw new IllegalArgumentException(
          "max-duration must be between 1m and 7d, found " + format(maxDuration));
    }
    requestableBy = Set.copyOf(requestableBy);
  }

  /**
   * Whether {@code identity} may ask for this role: a member of {@code requestableBy}, or anyone
   * when it is empty (the environment's admission is checked by the caller).
   */
  public boolean requestableBy(Identity identity) {
    return requestableBy.isEmpty() || identity.groups().stream().anyMatch(requestableBy::contains);
  }

  /**
   * A window's length as people write it: one or more parts of a number and a unit, {@code d},
   * {@code h}, {@code m} or {@code s}, largest first, e.g. {@code 1h}, {@code 90m}, {@code 1h30m}.
   *
   * @throws IllegalArgumentException saying what is wrong, with an example
   */
  public static Duration parseDuration(String text) {
    Objects.requireNonNull(text, "text");
    String s = text.strip().toLowerCase(Locale.ROOT);
    Matcher m = PART.matcher(s);
    Duration total = Duration.ZERO;
    int at = 0;
    String order = "dhms";
    int lastUnit = -1;
    while (at < s.length() && m.find(at) && m.start() == at) {
      int unit = order.indexOf(m.group(2).charAt(0));
      if (unit <= lastUnit) {
        throw new IllegalArgumentException(
            "'"
                + shorten(text)
                + "' is not a duration: write the units largest first, once each,"
                + " e.g. 1h30m");
      }
      lastUnit = unit;
      long n = Long.parseLong(m.group(1));
      total =
          total.plus(
              switch (m.group(2)) {
                case "d" -> Duration.ofDays(n);
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
              });
      at = m.end();
    }
    if (s.isEmpty() || at != s.length()) {
      throw new IllegalArgumentException(
          "'" + shorten(text) + "' is not a duration such as 30m, 1h or 1h30m (units d, h, m, s)");
    }
    return total;
  }

  /** A duration as {@link #parseDuration} reads it back, e.g. {@code 1h30m}. */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    StringBuilder out = new StringBuilder();
    if (d.toDaysPart() > 0) {
      out.append(d.toDaysPart()).append('d');
    }
    if (d.toHoursPart() > 0) {
      out.append(d.toHoursPart()).append('h');
    }
    if (d.toMinutesPart() > 0) {
      out.append(d.toMinutesPart()).append('m');
    }
    if (d.toSecondsPart() > 0 || out.isEmpty()) {
      out.append(d.toSecondsPart()).append('s');
    }
    return out.toString();
  }

  private static String shorten(String text) {
    return text.length() <= 40 ? text : text.substring(0, 37) + "...";
  }
}
