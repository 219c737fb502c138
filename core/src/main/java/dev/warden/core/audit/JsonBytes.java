package dev.warden.core.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte array that canonical JSON is written into directly, with {@link CanonicalJson}'s
 * rules for strings and numbers: the one place those bytes are produced, for {@link CanonicalJson}
 * and for {@link AuditEncoder}'s pre-ordered records alike.
 *
 * <p>Strings: quotes, backslashes and control characters escaped ({@code \b \f \n \r \t}, otherwise
 * {@code \}{@code u00xx} with lower-case hex), everything else as UTF-8 encoded by hand, with an
 * ASCII fast path. An unpaired surrogate is written as {@code ?}: that is what the JDK's UTF-8
 * encoder ({@code String.getBytes(UTF_8)}) writes for it, and the first encoding of the trail was
 * built on it, so the bytes (and the hashes of the records already chained) stay the same.
 *
 * <p>Not thread-safe: one instance per encoding.
 */
final class JsonBytes {
  /** For each ASCII character, whether a JSON string needs it escaped. */
  private static final boolean[] ESCAPED = new boolean[128];

  /** For each ASCII character, whether JSON has a two-character escape for it. */
  private static final boolean[] SHORT_ESCAPE = new boolean[128];

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LONG_MIN = "-9223372036854775808".getBytes(StandardCharsets.US_ASCII);

  static {
    for (int c = 0; c < 0x20; c++) {
      ESCAPED[c] = true;
    }
    ESCAPED['"'] = true;
    ESCAPED['\\'] = true;
    for (char c : new char[] {'"', '\\', '\b', '\f', '\n', '\r', '\t'}) {
      SHORT_ESCAPE[c] = true;
    }
  }

  private byte[] buf;
  private int len;

  /**
   * @param capacity the first guess of the size; the array grows as needed
   */
  JsonBytes(int capacity) {
    buf = new byte[Math.max(0, capacity)];
  }

  /**
   * The bytes written, in an array of exactly their length: the writer's own array when it was
   * sized exactly, so nothing may be written after this.
   */
  byte[] toByteArray() {
    return len == buf.length ? buf : Arrays.copyOf(buf, len);
  }

  /** Appends bytes that are already JSON (a pre-encoded value, a key with its colon). */
  void raw(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, len, bytes.length);
    len += bytes.length;
  }

  /** Appends {@code bytes} from index {@code from} on. */
  void raw(byte[] bytes, int from) {
    int n = bytes.length - from;
    ensure(n);
    System.arraycopy(bytes, from, buf, len, n);
    len += n;
  }

  /** Appends one ASCII character ({@code {}, {@code ,}, ...). */
  void ascii(char c) {
    ensure(1);
    buf[len++] = (byte) c;
  }

  /** Appends {@code s} as a JSON string, quoted and escaped. */
  void string(String s) {
    int n = s.length();
    ensure(n + 2L);
    byte[] b = buf;
    int p = len;
    b[p++] = '"';
    int i = 0;
    // Plain ASCII, the common case, needs no escape and one byte a character: room is ensured.
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80 || ESCAPED[c]) {
        break;
      }
      b[p++] = (byte) c;
    }
    len = p;
    if (i < n) {
      rest(s, i);
    }
    buf[len++] = '"';
  }

  /**
   * Appends the characters of {@code s} from {@code i} on, escaped and UTF-8 encoded. {@link
   * #string} has made room for one byte each and the closing quote; the array grows by exactly the
   * bytes beyond that, so that an array sized for the whole record stays exactly its size.
   */
  private void rest(String s, int i) {
    int n = s.length();
    long extra = encodedLength(s, i) - (n - i);
    if (extra > 0) {
      long size = buf.length + extra;
      if (size > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("an audit record cannot be larger than 2 GiB");
      }
      buf = Arrays.copyOf(buf, (int) size);
    }
    byte[] b = buf;
    int p = len;
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        if (!ESCAPED[c]) {
          b[p++] = (byte) c;
        } else {
          b[p++] = '\\';
          switch (c) {
            case '"' -> b[p++] = '"';
            case '\\' -> b[p++] = '\\';
            case '\b' -> b[p++] = 'b';
            case '\f' -> b[p++] = 'f';
            case '\n' -> b[p++] = 'n';
            case '\r' -> b[p++] = 'r';
            case '\t' -> b[p++] = 't';
            default -> {
              b[p++] = 'u';
              b[p++] = '0';
              b[p++] = '0';
              b[p++] = HEX[c >> 4];
              b[p++] = HEX[c & 0xf];
            }
          }
        }
      } else if (c < 0x800) {
        b[p++] = (byte) (0xc0 | (c >> 6));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (!Character.isSurrogate(c)) {
        b[p++] = (byte) (0xe0 | (c >> 12));
        b[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        b[p++] = (byte) (0xf0 | (cp >> 18));
        b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        b[p++] = (byte) (0x80 | (cp & 0x3f));
      } else {
        b[p++] = '?';
      }
    }
    len = p;
  }

  /** How many bytes the characters of {@code s} from {@code i} on take, escaped and encoded. */
  private static long encodedLength(String s, int i) {
    long bytes = 0;
    int n = s.length();
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += !ESCAPED[c] ? 1 : SHORT_ESCAPE[c] ? 2 : 6;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (!Character.isSurrogate(c)) {
        bytes += 3;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 1;
      }
    }
    return bytes;
  }

  /** Appends {@code v} in decimal. */
  void number(long v) {
    if (v == Long.MIN_VALUE) {
      raw(LONG_MIN);
      return;
    }
    int width = numberLength(v);
    ensure(width);
    if (v < 0) {
      buf[len++] = '-';
      digits(-v, width - 1);
    } else {
      digits(v, width);
    }
  }

  /**
   * Appends {@code "yyyy-MM-ddTHH:mm:ss.SSSSSSZ"}, quoted: the audit records' time format, for a
   * year of at most four digits, in one reservation.
   */
  void time(int year, int month, int day, int secondOfDay, int micros) {
    ensure(29);
    byte[] b = buf;
    int p = len;
    b[p] = '"';
    put(b, p + 1, year, 4);
    b[p + 5] = '-';
    put(b, p + 6, month, 2);
    b[p + 8] = '-';
    put(b, p + 9, day, 2);
    b[p + 11] = 'T';
    put(b, p + 12, secondOfDay / 3600, 2);
    b[p + 14] = ':';
    put(b, p + 15, secondOfDay / 60 % 60, 2);
    b[p + 17] = ':';
    put(b, p + 18, secondOfDay % 60, 2);
    b[p + 20] = '.';
    put(b, p + 21, micros, 6);
    b[p + 27] = 'Z';
    b[p + 28] = '"';
    len = p + 29;
  }

  private static void put(byte[] b, int at, int v, int width) {
    for (int p = at + width - 1; p >= at; p--) {
      b[p] = (byte) ('0' + v % 10);
      v /= 10;
    }
  }

  /** Appends the {@code width} lowest decimal digits of {@code v >= 0}, zero-padded. */
  void digits(long v, int width) {
    ensure(width);
    byte[] b = buf;
    for (int p = len + width - 1; p >= len; p--) {
      b[p] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    }
    len += width;
  }

  /**
   * The length of {@code s} as a JSON string if it is plain ASCII (no escapes): a lower bound of
   * its length otherwise, for sizing the array before writing.
   */
  static int plainLength(String s) {
    return s.length() + 2;
  }

  /** The length of {@code v} in decimal. */
  static int numberLength(long v) {
    if (v == Long.MIN_VALUE) {
      return LONG_MIN.length;
    }
    int digits = v < 0 ? 2 : 1;
    for (long t = Math.abs(v); t >= 10; t /= 10) {
      digits++;
    }
    return digits;
  }

  /** {@code s} as a JSON string on its own, for values encoded once and copied many times. */
  static byte[] quoted(String s) {
    JsonBytes out = new JsonBytes(s.length() + 2);
    out.string(s);
    return out.toByteArray();
  }

  private void ensure(long more) {
    if (buf.length - len < more) {
      long want = Math.max((long) buf.length * 2, len + more);
      if (want > Integer.MAX_VALUE - 8) {
        if (len + more > Integer.MAX_VALUE - 8) {
          throw new IllegalArgumentException("an audit record cannot be larger than 2 GiB");
        }
        want = Integer.MAX_VALUE - 8;
      }
      buf = Arrays.copyOf(buf, (int) want);
    }
  }
}
