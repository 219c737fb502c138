package dev.warden.core.masking;

/** How a data map came to classify a column. */
public enum Finding {
  /** The column's name (e.g. {@code email}, {@code ssn}, {@code password_hash}). */
  NAME,
  /** The column's type (e.g. {@code inet}). */
  TYPE,
  /** The column's comment. */
  COMMENT,
  /** Sampled values, recognised by a content detector. */
  CONTENT,
  /** A view or materialised view column fed by a sensitive column of another relation. */
  LINEAGE,
  /** The policy file marks (or unmarks) the column. */
  POLICY
}
