package dev.warden.core.masking;

import java.util.Locale;
import java.util.Optional;

/**
 * How policy masks one kind of data. Each strategy keeps a different amount of the value, from
 * nothing ({@link #NULL}, {@link #REDACT}) to its shape ({@link #FORMAT_PRESERVING}); the exact
 * forms are documented in docs/masking.md, because what a strategy keeps is disclosed on purpose.
 */
public enum MaskingStrategy {
  /** A fixed marker naming the kind of data, e.g. {@code [email]}; null where no text fits. */
  REDACT,
  /**
   * A documented part of the value: an e-mail address's domain, a card's or IBAN's last four
   * characters (and the IBAN's country), a phone number's last two digits, a date of birth's year;
   * kinds without a partial form are redacted.
   */
  PARTIAL,
  /**
   * A keyed HMAC-SHA256 token: equal values give equal tokens, so joins and counts of distinct
   * values still work, and nobody without the key can tell which value a token stands for.
   */
  PSEUDONYM,
  /**
   * A keyed replacement of the same shape: digits by digits, letters by letters of the same case,
   * everything else kept; numbers and dates stay valid numbers and dates.
   */
  FORMAT_PRESERVING,
  /** SQL NULL, whatever the value. */
  NULL;

  /** The name a policy file uses, e.g. {@code format_preserving}. */
  public String fileName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The strategy a policy file names, if it names one. */
  public static Optional<MaskingStrategy> fromFileName(String name) {
    for (MaskingStrategy strategy : values()) {
      if (strategy.fileName().equals(name)) {
        return Optional.of(strategy);
      }
    }
    return Optional.empty();
  }

  /** True for the strategies that need the server's masking key. */
  public boolean keyed() {
    return this == PSEUDONYM || this == FORMAT_PRESERVING;
  }
}
