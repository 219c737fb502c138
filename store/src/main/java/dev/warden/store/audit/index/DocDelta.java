package dev.warden.store.audit.index;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * A payload written as the members it shares with an earlier one (its base) and those it does not.
 * Records of one session and statement shape differ in a few members (the statement number, the
 * time, the text); the index stores such a record as a list of "the base's member k" and literal
 * members, a tenth of its size, and rebuilds it byte for byte when a search returns it.
 *
 * <p>A payload is its members joined by {@code ','} between braces ({@link RecordScan#ranges}); the
 * delta is a sequence of varints: {@code 2k+1} for the base's member {@code k}, or {@code 2n} then
 * the {@code n} bytes of a literal member. Members are compared whole and in key order, one pass
 * over both lists.
 */
final class DocDelta {
  /** A delta is kept only if it is at most this share (in 1/8) of the payload. */
  private static final int WORTH = 6;

  private DocDelta() {}

  /**
   * {@code doc} (its members at {@code ranges}) as a delta from {@code base} (members at {@code
   * baseRanges}), or null when it would not save a quarter of the bytes.
   */
  static byte[] encode(byte[] doc, int[] ranges, byte[] base, int[] baseRanges) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(doc.length / 4 + 16);
    int limit = doc.length * WORTH / 8;
    int j = 0;
    for (int k = 0; k < ranges.length; k += 2) {
      int from = ranges[k];
      int to = ranges[k + 1];
      int keyEnd = keyEnd(doc, from);
      while (j < baseRanges.length
          && Arrays.compareUnsigned(
                  base, baseRanges[j], keyEnd(base, baseRanges[j]), doc, from, keyEnd)
              < 0) {
        j += 2;
      }
      if (j < baseRanges.length
          && Arrays.equals(doc, from, to, base, baseRanges[j], baseRanges[j + 1])) {
        varint(out, ((long) (j / 2) << 1) | 1);
        j += 2;
      } else {
        varint(out, (long) (to - from) << 1);
        out.write(doc, from, to - from);
      }
      if (out.size() > limit) {
        return null;
      }
    }
    return out.toByteArray();
  }

  /** The payload {@code delta} stands for, given its base. */
  static byte[] decode(byte[] delta, byte[] base, int[] baseRanges) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(base.length + delta.length);
    out.write('{');
    int p = 0;
    boolean first = true;
    while (p < delta.length) {
      long v = 0;
      int shift = 0;
      byte c;
      do {
        if (p == delta.length || shift > 56) {
          throw corrupt();
        }
        c = delta[p++];
        v |= (long) (c & 0x7f) << shift;
        shift += 7;
      } while (c < 0);
      if (!first) {
        out.write(',');
      }
      first = false;
      if ((v & 1) == 1) {
        long k = (v >>> 1) * 2;
        if (k + 1 >= baseRanges.length) {
          throw corrupt();
        }
        int from = baseRanges[(int) k];
        out.write(base, from, baseRanges[(int) k + 1] - from);
      } else {
        long n = v >>> 1;
        if (n > delta.length - p) {
          throw corrupt();
        }
        out.write(delta, p, (int) n);
        p += (int) n;
      }
    }
    out.write('}');
    return out.toByteArray();
  }

  private static IllegalStateException corrupt() {
    return new IllegalStateException("the audit index holds a damaged record; rebuild it");
  }

  /** The end of the key (its closing quote) of the member at {@code from}. */
  private static int keyEnd(byte[] doc, int from) {
    int k = from + 1;
    while (doc[k] != '"') {
      k += doc[k] == '\\' ? 2 : 1;
    }
    return k;
  }

  private static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
