package dev.warden.core.masking;

import java.util.List;
import java.util.Optional;

/**
 * The masking policy as it applies to one identity in one environment at one moment: which strategy
 * masks each kind of data, which columns policy marks or unmarks, which detectors back the data map
 * up, and whether inference through predicates is refused. Policy hands one out only for identities
 * that are not exempt; immutable and thread-safe.
 */
public interface SessionMasking {
  /** The mask for data of {@code kind}; empty kind is data of unknown kind (generic redaction). */
  ColumnMask mask(Optional<DataKind> kind);

  /** The mask for a value a content detector recognises, or null when none does. */
  ColumnMask backstop(String value);

  /** {@code text} with every word a content detector recognises masked. */
  String scrubText(String text);

  /** {@code map} with policy's column overrides applied (marked and unmarked columns). */
  DataMap overlay(DataMap map);

  /** The content detectors: the standard ones and those policy adds. */
  List<ContentDetector> detectors();

  /**
   * Whether statements may not filter, sort, group or join on masked columns (THREATS M15); the
   * decision point refuses them with a reason.
   */
  boolean denyInference();

  /**
   * The instant this answer stops holding (a time-boxed exemption of the identity begins or ends),
   * or empty; a decision made with it must not be reused past then.
   */
  Optional<java.time.Instant> validUntil();
}
