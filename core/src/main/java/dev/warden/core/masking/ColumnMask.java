package dev.warden.core.masking;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * How one result column is masked: the strategy policy chose for the data it holds, applied value
 * by value. Implementations are immutable, thread-safe and never throw.
 */
public interface ColumnMask {
  /** The kind of data the column holds, or empty for a computed column of unknown kind. */
  java.util.Optional<DataKind> kind();

  /** The strategy's name as policy spells it ({@code redact}, {@code partial}, ...). */
  String strategy();

  /**
   * The masked form of {@code value} (never null on input: SQL NULL stays NULL without asking), as
   * a value of {@code type}; null means the masked value is SQL NULL (the strategy asks for it, or
   * no masked form of the value is valid for the type).
   */
  String mask(String value, ValueType type);

  /**
   * {@link #mask} of a text value ({@link ValueType#TEXT}) whose bytes {@code value[from, from +
   * length)} are all ASCII, encoded in {@code charset} (ASCII-compatible); null for SQL NULL. What
   * a proxy calls for the common case of a text column in text format, so that a strategy that can
   * work on the bytes (a redaction, the partial forms) does not decode and re-encode every value.
   * The array returned may be shared: callers must not change it.
   */
  default byte[] maskAscii(byte[] value, int from, int length, Charset charset) {
    String masked =
        mask(new String(value, from, length, StandardCharsets.US_ASCII), ValueType.TEXT);
    return masked == null ? null : masked.getBytes(charset);
  }
}
