package dev.warden.core.masking;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The standard set of content detectors, and classification of one value against all of them. A
 * data map samples column values through {@link #detect(String)}; kinds that only a column's
 * metadata reveals (names, addresses, dates of birth, plain passwords) come from {@link
 * ColumnHints} instead, because their values alone carry no structure to validate.
 */
public final class Detectors {
  /** Values longer than this (64 KiB) are not examined: no detector reports anything for them. */
  public static final int MAX_VALUE_LENGTH = 64 * 1024;

  private static final List<ContentDetector> STANDARD =
      List.of(
          new EmailDetector(),
          new PhoneDetector(),
          new PaymentCardDetector(),
          new IbanDetector(),
          new UsSsnDetector(),
          new IpAddressDetector(),
          new JwtDetector(),
          new PrivateKeyDetector(),
          new PasswordHashDetector(),
          new ApiTokenDetector());

  private Detectors() {}

  /** All content detectors Warden ships, one per recognised format family; immutable. */
  public static List<ContentDetector> standard() {
    return STANDARD;
  }

  /**
   * The kinds the standard detectors recognise in the value: empty for null, blank, unrecognised or
   * over-long values. Never throws.
   */
  public static Set<DataKind> detect(String value) {
    return detect(STANDARD, value);
  }

  /**
   * As {@link #detect(String)}, with the given detectors (e.g. the standard ones plus policy's).
   */
  public static Set<DataKind> detect(List<? extends ContentDetector> detectors, String value) {
    Set<DataKind> kinds = EnumSet.noneOf(DataKind.class);
    if (value == null || value.length() > MAX_VALUE_LENGTH || value.isBlank()) {
      return kinds;
    }
    for (ContentDetector detector : detectors) {
      if (!kinds.contains(detector.kind()) && safeMatches(detector, value)) {
        kinds.add(detector.kind());
      }
    }
    return kinds;
  }

  /**
   * The kinds the detectors recognise in words inside {@code text} (free text, a JSON document, a
   * message), found as {@link SessionMasking#scrubText} finds them: words, digit groups that run
   * across words (a phone number with spaces), PEM private-key blocks. Empty for null or over-long
   * text. Used to classify columns whose values are not sensitive whole but hold sensitive data (a
   * support ticket quoting an e-mail address). Never throws.
   */
  public static Set<DataKind> detectWithin(List<? extends ContentDetector> detectors, String text) {
    Set<DataKind> kinds = EnumSet.noneOf(DataKind.class);
    if (text == null || text.length() > MAX_VALUE_LENGTH || text.isBlank()) {
      return kinds;
    }
    ColumnMask found =
        new ColumnMask() {
          @Override
          public java.util.Optional<DataKind> kind() {
            return java.util.Optional.empty();
          }

          @Override
          public String strategy() {
            return "redact";
          }

          @Override
          public String mask(String value, ValueType type) {
            return "";
          }
        };
    try {
      TextScrubber.scrub(
          text,
          List.<ContentDetector>copyOf(detectors),
          kind -> {
            kinds.add(kind);
            return found;
          });
    } catch (RuntimeException e) {
      // a detector added by policy failed: what was found so far stands
    }
    return kinds;
  }

  /** A detector added by policy might throw; one value's classification must not fail a scan. */
  private static boolean safeMatches(ContentDetector detector, String value) {
    try {
      return detector.matches(value);
    } catch (RuntimeException e) {
      return false;
    }
  }
}
