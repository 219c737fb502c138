package dev.warden.core.masking;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One strategy applied to one kind of data: the {@link ColumnMask} that {@link SessionMasking}
 * hands out. The forms each strategy produces are documented in docs/masking.md; the rules common
 * to all of them are that a masked value is valid for its {@link ValueType} or SQL NULL, that equal
 * inputs give equal outputs, that the cost is linear in the value's length, and that nothing
 * throws: a value that cannot be masked as asked is redacted.
 *
 * <p>The keyed strategies fail closed: without a key they redact, and {@link #strategy()} then says
 * {@code redact}, so that an audit record names what was really done.
 */
final class StrategyMask implements ColumnMask {
  /** The marker of data of unknown kind (a computed column fed by sensitive columns). */
  static final String UNKNOWN_MARKER = "[masked]";

  private final Optional<DataKind> kind;
  private final MaskingStrategy strategy;
  private final MaskingKey key;
  private final String marker;
  private final String jsonMarker;

  /**
   * {@link #marker} in ASCII, which every client encoding Warden passes bytes through for shares.
   */
  private final byte[] markerBytes;

  /**
   * @param key the masking key, or null when the server has none (keyed strategies then redact)
   */
  StrategyMask(Optional<DataKind> kind, MaskingStrategy strategy, MaskingKey key) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.strategy =
        strategy.keyed() && key == null ? MaskingStrategy.REDACT : Objects.requireNonNull(strategy);
    this.key = key;
    this.marker = marker(kind);
    this.markerBytes = marker.getBytes(StandardCharsets.US_ASCII);
    this.jsonMarker = JsonText.quote(marker);
  }

  /** The redaction marker of a kind: its policy-file name in brackets, e.g. {@code [email]}. */
  static String marker(Optional<DataKind> kind) {
    return kind.map(k -> "[" + k.name().toLowerCase(Locale.ROOT) + "]").orElse(UNKNOWN_MARKER);
  }

  @Override
  public Optional<DataKind> kind() {
    return kind;
  }

  @Override
  public String strategy() {
    return strategy.fileName();
  }

  /** The strategy really applied (a keyed one without a key is {@link MaskingStrategy#REDACT}). */
  MaskingStrategy effectiveStrategy() {
    return strategy;
  }

  @Override
  public String mask(String value, ValueType type) {
    try {
      return apply(value, type);
    } catch (RuntimeException e) {
      // No value may escape unmasked because a strategy tripped over it.
      return switch (type) {
        case TEXT, BYTES -> marker;
        case JSON -> jsonMarker;
        case NUMBER, DATE, OTHER -> null;
      };
    }
  }

  /**
   * The redaction and the partial forms work on the bytes (the same result as {@link #mask}, tested
   * value for value); the keyed strategies decode.
   */
  @Override
  public byte[] maskAscii(byte[] value, int from, int length, Charset charset) {
    try {
      switch (strategy) {
        case REDACT:
          return markerBytes;
        case NULL:
          return null;
        case PARTIAL:
          byte[] kept = Partial.ofAscii(kind, value, from, from + length);
          if (kept != Partial.UNHANDLED) {
            return kept == null ? markerBytes : kept;
          }
          break;
        default:
          break;
      }
    } catch (RuntimeException e) {
      return markerBytes;
    }
    return ColumnMask.super.maskAscii(value, from, length, charset);
  }

  /** The masked value; may throw on a bug, which {@link #mask} turns into a redaction (tests). */
  String apply(String value, ValueType type) {
    return switch (type) {
      case TEXT, BYTES -> text(value);
      case JSON -> json(value);
      case NUMBER -> number(value);
      case DATE -> date(value);
      case OTHER -> null;
    };
  }

  private String text(String value) {
    return switch (strategy) {
      case REDACT -> marker;
      case NULL -> null;
      case PARTIAL -> {
        String kept = Partial.of(kind, value);
        yield kept == null ? marker : kept;
      }
      case PSEUDONYM -> pseudonym(value);
      case FORMAT_PRESERVING -> formatPreserving(value);
    };
  }

  private String json(String value) {
    if (strategy == MaskingStrategy.NULL) {
      return null;
    }
    String content = JsonText.stringContent(value);
    if (content != null) {
      return JsonText.quote(text(content));
    }
    // An object, array, number or literal: the whole value becomes one masked JSON string.
    return switch (strategy) {
      case REDACT, PARTIAL, NULL -> jsonMarker;
      case PSEUDONYM -> JsonText.quote(pseudonym(value.strip()));
      case FORMAT_PRESERVING -> JsonText.quote(formatPreserving(value));
    };
  }

  private String number(String value) {
    return switch (strategy) {
      case REDACT, PARTIAL, NULL -> null;
      case PSEUDONYM -> Shapes.number(key.stream(MaskingKey.Purpose.PSEUDONYM, value), value);
      case FORMAT_PRESERVING ->
          Shapes.number(key.stream(MaskingKey.Purpose.FORMAT_PRESERVING, value), value);
    };
  }

  private String date(String value) {
    return switch (strategy) {
      case REDACT, NULL -> null;
      case PARTIAL -> kind.equals(Optional.of(DataKind.DATE_OF_BIRTH)) ? Partial.year(value) : null;
      case PSEUDONYM -> Shapes.date(key.stream(MaskingKey.Purpose.PSEUDONYM, value), value);
      case FORMAT_PRESERVING ->
          Shapes.date(key.stream(MaskingKey.Purpose.FORMAT_PRESERVING, value), value);
    };
  }

  /** {@code u<10 hex>@pseudonym.invalid} for e-mail addresses, else {@code pseudo:<13 base32>}. */
  private String pseudonym(String value) {
    byte[] digest = key.digest(MaskingKey.Purpose.PSEUDONYM, value);
    if (kind.equals(Optional.of(DataKind.EMAIL)) && value.indexOf('@') > 0) {
      StringBuilder out = new StringBuilder(30).append('u');
      for (int i = 0; i < 5; i++) {
        out.append(Character.forDigit((digest[i] >> 4) & 0xf, 16))
            .append(Character.forDigit(digest[i] & 0xf, 16));
      }
      return out.append("@pseudonym.invalid").toString();
    }
    // 13 base32 characters carry 65 bits: collisions are negligible at any realistic table size.
    StringBuilder out = new StringBuilder(20).append("pseudo:");
    long bits = 0;
    int have = 0;
    int next = 0;
    for (int i = 0; i < 13; i++) {
      if (have < 5) {
        bits = (bits << 8) | (digest[next++] & 0xff);
        have += 8;
      }
      int index = (int) (bits >>> (have - 5)) & 0x1f;
      have -= 5;
      out.append(BASE32[index]);
    }
    return out.toString();
  }

  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

  private String formatPreserving(String value) {
    return Shapes.text(
        key.stream(MaskingKey.Purpose.FORMAT_PRESERVING, value),
        value,
        kind.equals(Optional.of(DataKind.PAYMENT_CARD)));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StrategyMask m
        && m.kind.equals(kind)
        && m.strategy == strategy
        && Objects.equals(m.key, key);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, strategy);
  }

  @Override
  public String toString() {
    return "ColumnMask[" + kind.map(DataKind::name).orElse("unknown") + ", " + strategy() + "]";
  }
}
