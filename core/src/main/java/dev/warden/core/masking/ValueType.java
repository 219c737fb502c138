package dev.warden.core.masking;

/**
 * What a masked value must still be, so that the client can read it as the type the result
 * announced: the proxy maps the engine's column type to one of these.
 */
public enum ValueType {
  /** Any character type: text, varchar, char, name, citext, enums shown as text. */
  TEXT,
  /** JSON text (json, jsonb): a masked value must be valid JSON. */
  JSON,
  /** A date ({@code YYYY-MM-DD} in ISO style). */
  DATE,
  /** A number of any numeric type. */
  NUMBER,
  /** Binary strings (bytea, blob): the masked value is the bytes of the masked text. */
  BYTES,
  /** Anything else (timestamps, network types, arrays, composites, ...): masked values are null. */
  OTHER
}
