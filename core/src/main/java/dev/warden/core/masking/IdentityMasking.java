package dev.warden.core.masking;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@link SessionMasking} for an identity that is not exempt: everything comes precomputed from the
 * {@link MaskingRules}, so handing one out costs an allocation at most, and masks, detectors and
 * overlays are shared by every session.
 */
final class IdentityMasking implements SessionMasking {
  private final MaskingRules rules;
  private final Optional<Instant> validUntil;

  IdentityMasking(MaskingRules rules, Optional<Instant> validUntil) {
    this.rules = rules;
    this.validUntil = validUntil;
  }

  @Override
  public ColumnMask mask(Optional<DataKind> kind) {
    return rules.mask(kind);
  }

  @Override
  public ColumnMask backstop(String value) {
    if (value == null || value.length() > Detectors.MAX_VALUE_LENGTH || value.isBlank()) {
      return null;
    }
    for (ContentDetector detector : rules.detectors()) {
      try {
        if (detector.matches(value)) {
          return rules.mask(detector.kind());
        }
      } catch (RuntimeException e) {
        // A policy's detector that throws recognises nothing; the others still run.
      }
    }
    return null;
  }

  @Override
  public String scrubText(String text) {
    return TextScrubber.scrub(text, rules.detectors(), rules::mask);
  }

  @Override
  public DataMap overlay(DataMap map) {
    return rules.overlay(map);
  }

  @Override
  public List<ContentDetector> detectors() {
    return rules.detectors();
  }

  @Override
  public boolean denyInference() {
    return rules.denyInference();
  }

  @Override
  public Optional<Instant> validUntil() {
    return validUntil;
  }

  @Override
  public String toString() {
    return "SessionMasking[" + rules + validUntil.map(t -> ", until " + t).orElse("") + "]";
  }
}
