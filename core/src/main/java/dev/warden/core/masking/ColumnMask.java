package dev.warden.core.masking;

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
}
