package dev.warden.protocol.postgres;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Argument checks and defensive copies shared by the message records. A record that passes them
 * encodes to a well-formed message that decodes back to an equal record.
 */
final class Values {
  /** Int16 counts on the wire are read unsigned, as PostgreSQL does. */
  static final int MAX_COUNT = 0xFFFF;

  private Values() {}

  /**
   * Text written as a NUL-terminated string must contain no NUL (it would end the string early) and
   * no unpaired surrogate (it has no UTF-8 form).
   */
  static String text(String value, String what) {
    Objects.requireNonNull(value, what);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == 0) {
        throw new IllegalArgumentException(what + " contains a NUL character");
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
        } else {
          throw new IllegalArgumentException(what + " contains an unpaired surrogate");
        }
      } else if (Character.isLowSurrogate(c)) {
        throw new IllegalArgumentException(what + " contains an unpaired surrogate");
      }
    }
    return value;
  }

  static String nonEmptyText(String value, String what) {
    if (text(value, what).isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    return value;
  }

  static <T> List<T> list(List<T> values, String what) {
    List<T> copy = List.copyOf(Objects.requireNonNull(values, what));
    count(copy.size(), what);
    return copy;
  }

  static void count(int size, String what) {
    if (size > MAX_COUNT) {
      throw new IllegalArgumentException(what + " has more than " + MAX_COUNT + " elements");
    }
  }

  static byte[] bytes(byte[] value, String what) {
    return Objects.requireNonNull(value, what).clone();
  }

  static byte[] nullableBytes(byte[] value) {
    return value == null ? null : value.clone();
  }

  /** A deep, unmodifiable copy; null elements (SQL NULL) are kept. */
  static List<byte[]> nullableBytesList(List<byte[]> values, String what) {
    Objects.requireNonNull(values, what);
    count(values.size(), what);
    List<byte[]> copy = new ArrayList<>(values.size());
    for (byte[] value : values) {
      copy.add(nullableBytes(value));
    }
    return Collections.unmodifiableList(copy);
  }

  static boolean equalBytesLists(List<byte[]> a, List<byte[]> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  static int hashBytesList(List<byte[]> values) {
    int hash = 1;
    for (byte[] value : values) {
      hash = 31 * hash + Arrays.hashCode(value);
    }
    return hash;
  }

  /** Constant-time comparison for secrets, so equality checks do not leak a key byte by byte. */
  static boolean equalSecrets(byte[] a, byte[] b) {
    if (a == null || b == null) {
      return a == b;
    }
    return MessageDigest.isEqual(a, b);
  }

  /** Describes a list of values by shape only: result data and parameters never reach logs. */
  static String describeValues(List<byte[]> values) {
    long nulls = values.stream().filter(Objects::isNull).count();
    return values.size() + " value(s), " + nulls + " NULL";
  }

  /** A type byte as {@code 'Q'} when printable, else as a number, so logs stay one line. */
  static String describeType(byte type) {
    return type >= 0x21 && type <= 0x7E ? "'" + (char) type + "'" : Integer.toString(type & 0xFF);
  }

  static String describeText(String value) {
    return "<" + value.length() + " chars>";
  }

  static String describeBytes(byte[] value) {
    return value == null ? "null" : "<" + value.length + " bytes>";
  }
}
