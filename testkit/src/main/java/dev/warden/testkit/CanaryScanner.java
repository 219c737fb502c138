package dev.warden.testkit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Finds planted {@link Canary} values in bytes a client received (THREATS H7, oracle O3), in the
 * forms SQL can easily turn a value into: as is, upper and lower case, reversed, the hex of its
 * UTF-8 bytes (both cases, and bytea's {@code \x} form), base64 (standard and URL-safe, at each of
 * the three alignments a value can have inside a longer encoded text, matching the characters that
 * depend on the value alone, across line breaks), JSON-escaped ({@code \u0040} for {@code @}, and
 * every character escaped), the MD5 and SHA-256 hex of it, its Latin-1 bytes when it has non-ASCII
 * characters, and every substring of at least {@value #MIN_SUBSTRING} characters of each unique
 * part in any letter case. Each canary's {@link Canary#otherForms() other forms} are looked for
 * exactly.
 *
 * <p>One scanner holds every form of every canary in a hash index keyed by their first {@value
 * #MIN_SUBSTRING} bytes, so a scan is one pass over the bytes whatever the number of canaries.
 * Immutable and thread-safe.
 */
public final class CanaryScanner {
  /** The shortest piece of a unique part that counts as a leak, and the shortest form. */
  public static final int MIN_SUBSTRING = 6;

  /**
   * One place a canary was found.
   *
   * @param canary the canary's name
   * @param transformation the form it was found in, e.g. {@code unique[0] substring 3..11 any case}
   * @param offset where in the scanned bytes it starts
   * @param length how many of the scanned bytes it covers
   */
  public record Hit(String canary, String transformation, int offset, int length) {
    @Override
    public String toString() {
      return canary + " as " + transformation + " at byte " + offset;
    }
  }

  /** Which rendering of the scanned bytes a form is compared with. */
  private enum View {
    /** The bytes as they are. */
    RAW,
    /** ASCII letters in lower case, for forms whose letter case a query can change. */
    FOLDED,
    /** Without CR and LF, for base64 that PostgreSQL's encode() wraps at 76 characters. */
    UNWRAPPED
  }

  private record Needle(String canary, String transformation, byte[] bytes, View view) {}

  private final Map<View, Map<Long, List<Needle>>> index = new HashMap<>();
  private final int needles;

  private CanaryScanner(List<Needle> all) {
    Set<String> seen = new HashSet<>();
    int count = 0;
    for (Needle n : all) {
      if (n.bytes().length < MIN_SUBSTRING
          || !seen.add(n.canary() + '\0' + n.view() + '\0' + HexFormat.of().formatHex(n.bytes()))) {
        continue;
      }
      index
          .computeIfAbsent(n.view(), v -> new HashMap<>())
          .computeIfAbsent(key(n.bytes(), 0), k -> new ArrayList<>(1))
          .add(n);
      count++;
    }
    this.needles = count;
  }

  /** A scanner for {@code canaries}. */
  public static CanaryScanner of(Collection<Canary> canaries) {
    List<Needle> all = new ArrayList<>();
    for (Canary c : canaries) {
      forms(c, all);
    }
    return new CanaryScanner(all);
  }

  /** How many distinct byte patterns the scanner looks for. */
  public int patterns() {
    return needles;
  }

  /**
   * Every form of {@code canary} the scanner looks for, by transformation name, as bytes (forms
   * compared in any letter case are given in lower case). For tests of the scanner itself.
   */
  public static Map<String, byte[]> transformations(Canary canary) {
    List<Needle> all = new ArrayList<>();
    forms(canary, all);
    Map<String, byte[]> out = new java.util.LinkedHashMap<>();
    for (Needle n : all) {
      out.putIfAbsent(n.transformation(), n.bytes());
    }
    return out;
  }

  /**
   * Every place a canary appears in {@code bytes}. A hit inside a longer hit of the same canary
   * (its substring inside its whole value) is left out; hits are in order of offset.
   */
  public List<Hit> scan(byte[] bytes) {
    List<Hit> hits = new ArrayList<>();
    byte[] folded = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      folded[i] = b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }
    int[] positions = new int[bytes.length];
    byte[] unwrapped = new byte[bytes.length];
    int n = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] != '\n' && bytes[i] != '\r') {
        positions[n] = i;
        unwrapped[n++] = bytes[i];
      }
    }
    search(View.RAW, bytes, bytes.length, null, hits);
    search(View.FOLDED, folded, folded.length, null, hits);
    search(View.UNWRAPPED, unwrapped, n, positions, hits);
    return outermost(hits);
  }

  private void search(View view, byte[] data, int length, int[] positions, List<Hit> hits) {
    Map<Long, List<Needle>> byKey = index.get(view);
    if (byKey == null || length < MIN_SUBSTRING) {
      return;
    }
    long key = 0;
    long mask = (1L << (8 * MIN_SUBSTRING)) - 1;
    for (int i = 0; i < length; i++) {
      key = ((key << 8) | (data[i] & 0xFF)) & mask;
      int start = i - MIN_SUBSTRING + 1;
      if (start < 0) {
        continue;
      }
      List<Needle> candidates = byKey.get(key);
      if (candidates == null) {
        continue;
      }
      for (Needle needle : candidates) {
        byte[] p = needle.bytes();
        if (start + p.length <= length
            && Arrays.equals(data, start, start + p.length, p, 0, p.length)) {
          int from = positions == null ? start : positions[start];
          int to = positions == null ? start + p.length : positions[start + p.length - 1] + 1;
          hits.add(new Hit(needle.canary(), needle.transformation(), from, to - from));
        }
      }
    }
  }

  /** Drops hits that lie within a longer (or earlier-listed equal) hit of the same canary. */
  private static List<Hit> outermost(List<Hit> hits) {
    List<Hit> sorted = new ArrayList<>(hits);
    sorted.sort(
        Comparator.comparingInt(Hit::offset)
            .thenComparing(Comparator.comparingInt(Hit::length).reversed()));
    List<Hit> kept = new ArrayList<>();
    Map<String, Integer> coveredUntil = new HashMap<>();
    for (Hit h : sorted) {
      int end = h.offset() + h.length();
      Integer until = coveredUntil.get(h.canary());
      if (until != null && end <= until) {
        continue;
      }
      kept.add(h);
      coveredUntil.merge(h.canary(), end, Math::max);
    }
    return kept;
  }

  private static long key(byte[] bytes, int from) {
    long key = 0;
    for (int i = 0; i < MIN_SUBSTRING; i++) {
      key = (key << 8) | (bytes[from + i] & 0xFF);
    }
    return key;
  }

  private static void forms(Canary c, List<Needle> out) {
    renderings(c.name(), "value", c.value(), out);
    for (int u = 0; u < c.uniqueParts().size(); u++) {
      String part = c.uniqueParts().get(u);
      String label = "unique[" + u + "]";
      renderings(c.name(), label, part, out);
      for (int len = part.length(); len >= MIN_SUBSTRING; len--) {
        for (int from = 0; from + len <= part.length(); from++) {
          String piece = part.substring(from, from + len);
          String where = label + " substring " + from + ".." + (from + len) + " any case";
          out.add(new Needle(c.name(), where, utf8(fold(piece)), View.FOLDED));
          if (!ascii(piece) && latin1(piece)) {
            out.add(
                new Needle(
                    c.name(),
                    where + " latin1",
                    fold(piece).getBytes(StandardCharsets.ISO_8859_1),
                    View.FOLDED));
          }
        }
      }
    }
    c.otherForms().forEach((label, bytes) -> out.add(new Needle(c.name(), label, bytes, View.RAW)));
  }

  private static void renderings(String canary, String label, String s, List<Needle> out) {
    byte[] utf8 = utf8(s);
    out.add(new Needle(canary, label + " as is", utf8, View.RAW));
    out.add(new Needle(canary, label + " upper case", utf8(s.toUpperCase(Locale.ROOT)), View.RAW));
    out.add(new Needle(canary, label + " lower case", utf8(s.toLowerCase(Locale.ROOT)), View.RAW));
    out.add(new Needle(canary, label + " any case", utf8(fold(s)), View.FOLDED));
    String reversed = new StringBuilder(s).reverse().toString();
    out.add(new Needle(canary, label + " reversed", utf8(reversed), View.RAW));
    out.add(new Needle(canary, label + " reversed any case", utf8(fold(reversed)), View.FOLDED));
    String hex = HexFormat.of().formatHex(utf8);
    out.add(new Needle(canary, label + " hex", utf8(hex), View.RAW));
    out.add(new Needle(canary, label + " HEX", utf8(hex.toUpperCase(Locale.ROOT)), View.RAW));
    out.add(new Needle(canary, label + " bytea \\x hex", utf8("\\x" + hex), View.RAW));
    for (int align = 0; align < 3; align++) {
      out.add(
          new Needle(
              canary,
              label + " base64 at alignment " + align,
              base64Inner(Base64.getEncoder(), utf8, align),
              View.UNWRAPPED));
      out.add(
          new Needle(
              canary,
              label + " base64url at alignment " + align,
              base64Inner(Base64.getUrlEncoder(), utf8, align),
              View.UNWRAPPED));
    }
    out.add(
        new Needle(canary, label + " JSON-escaped", utf8(jsonEscaped(s, false, false)), View.RAW));
    out.add(
        new Needle(
            canary,
            label + " JSON-escaped (upper hex)",
            utf8(jsonEscaped(s, false, true)),
            View.RAW));
    out.add(
        new Needle(
            canary,
            label + " JSON-escaped (every character)",
            utf8(fold(jsonEscaped(s, true, false))),
            View.FOLDED));
    for (String algorithm : List.of("MD5", "SHA-256")) {
      String digest = HexFormat.of().formatHex(digest(algorithm, utf8));
      out.add(
          new Needle(canary, label + " " + algorithm + " hex any case", utf8(digest), View.FOLDED));
    }
    if (!ascii(s) && latin1(s)) {
      byte[] l1 = s.getBytes(StandardCharsets.ISO_8859_1);
      out.add(new Needle(canary, label + " latin1", l1, View.RAW));
      out.add(
          new Needle(canary, label + " latin1 hex", utf8(HexFormat.of().formatHex(l1)), View.RAW));
    }
  }

  /**
   * The base64 characters that depend on {@code bytes} alone when they follow {@code align} other
   * bytes in the encoded input: the characters before are shared with the preceding bytes and the
   * last one with the following bytes (or the padding).
   */
  static byte[] base64Inner(Base64.Encoder encoder, byte[] bytes, int align) {
    byte[] input = new byte[align + bytes.length];
    System.arraycopy(bytes, 0, input, align, bytes.length);
    byte[] encoded = encoder.withoutPadding().encode(input);
    int first = (8 * align + 5) / 6;
    int last = (8 * (align + bytes.length)) / 6; // exclusive: characters fully inside the value
    return Arrays.copyOfRange(encoded, first, Math.max(first, Math.min(last, encoded.length)));
  }

  private static String jsonEscaped(String s, boolean everything, boolean upperHex) {
    StringBuilder sb = new StringBuilder();
    for (char ch : s.toCharArray()) {
      if (everything || !(Character.isLetterOrDigit(ch) && ch < 0x80)) {
        String hex = String.format("%04x", (int) ch);
        sb.append("\\u").append(upperHex ? hex.toUpperCase(Locale.ROOT) : hex);
      } else {
        sb.append(ch);
      }
    }
    return sb.toString();
  }

  private static byte[] digest(String algorithm, byte[] bytes) {
    try {
      return MessageDigest.getInstance(algorithm).digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has " + algorithm, e);
    }
  }

  private static String fold(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch);
    }
    return sb.toString();
  }

  private static boolean ascii(String s) {
    return s.chars().allMatch(ch -> ch < 0x80);
  }

  private static boolean latin1(String s) {
    return StandardCharsets.ISO_8859_1.newEncoder().canEncode(s);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
