package dev.warden.core.masking;

/**
 * Recognises one kind of sensitive data from a single value alone, by validating its structure
 * (check digits, ranges, lengths, decodable parts) rather than by matching its shape, so that
 * sampled values can be classified with few false positives.
 *
 * <p>Implementations never throw, run in time linear in the value's length and answer {@code false}
 * for {@code null} and for values longer than {@link Detectors#MAX_VALUE_LENGTH}.
 */
public interface ContentDetector {
  /** The kind of data this detector recognises. */
  DataKind kind();

  /** Whether the whole value (surrounding whitespace aside) is data of {@link #kind()}. */
  boolean matches(String value);
}
