package dev.warden.store.audit.index;

import dev.warden.core.audit.search.AuditTerms;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the indexer reads of a payload, in one pass over its bytes instead of a full JSON parse: the
 * values of the top-level fields it needs ({@link #KEYS}) and where each top-level field lies in
 * the payload (for {@link DocDelta}).
 *
 * <p>The values are exactly those {@link Payloads#fields} (Jackson) would give for those keys, so
 * that terms and merged outcomes come out the same whichever reads a record: payloads as the
 * encoder writes them (canonical JSON, ASCII) are read here; anything else (a non-ASCII character,
 * an escaped key, whitespace, a float, a payload that is not one JSON object) is left to Jackson,
 * whose answer is then narrowed to the same keys. Nested objects keep only their {@code command}
 * member, the only one a term reads ({@code statements[].command}); other keys of nested objects
 * are checked for syntax and skipped. {@code RecordScanTest} holds the two readers to each other.
 *
 * <p>Records of one session and statement shape repeat every field a term is made of; only the
 * time, the statement number and text, and the outcome's measures change. So the fields terms are
 * made of are read as a {@link Shape}, found by their bytes in {@link Shapes} (a cache the indexer
 * keeps) and parsed, with their terms computed, once per shape.
 */
final class RecordScan {
  /**
   * The top-level fields the index reads: those {@code AuditTerms} and {@code AuditHit.merge} look
   * at, and its own columns.
   */
  static final Set<String> KEYS =
      Set.of(
          "application",
          "client",
          "columns",
          "database",
          "duration_us",
          "env",
          "event",
          "fingerprint",
          "groups",
          "instance",
          "kinds",
          "outcome_time",
          "rows",
          "rule",
          "session",
          "sqlstate",
          "statements",
          "status",
          "stmt",
          "tables",
          "text",
          "time",
          "type",
          "user",
          "verdict");

  /** The fields of {@link #KEYS} that change from record to record, each read on its own. */
  private static final String[] SCALARS = {"time", "stmt", "text", "rows", "duration_us"};

  private static final int TIME = 0;

  /** Known keys with their quotes, by first letter: {@code [letter][k]} the bytes, then the key. */
  private static final byte[][][] KEY_BYTES = new byte[128][][];

  private static final String[][] KEY_NAMES = new String[128][];

  static {
    for (String k : KEYS) {
      int c = k.charAt(0);
      byte[] quoted = ('"' + k + '"').getBytes(StandardCharsets.US_ASCII);
      KEY_BYTES[c] =
          KEY_BYTES[c] == null
              ? new byte[][] {quoted}
              : java.util.stream.Stream.concat(
                      java.util.Arrays.stream(KEY_BYTES[c]), java.util.stream.Stream.of(quoted))
                  .toArray(byte[][]::new);
      KEY_NAMES[c] =
          KEY_NAMES[c] == null
              ? new String[] {k}
              : java.util.stream.Stream.concat(
                      java.util.Arrays.stream(KEY_NAMES[c]), java.util.stream.Stream.of(k))
                  .toArray(String[]::new);
    }
  }

  /** Nesting deeper than this is left to Jackson (which allows more; no record nests so deep). */
  private static final int MAX_DEPTH = 32;

  /** Thrown (without a stack) when the payload is not one this reader handles. */
  private static final class Unhandled extends RuntimeException {
    Unhandled() {
      super(null, null, false, false);
    }
  }

  private static final Unhandled UNHANDLED = new Unhandled();

  /**
   * The fields of a record its terms are made of (all of {@link #KEYS} but the changing ones), its
   * terms, and whether it has a {@code time} (which a merged outcome turns into {@code
   * outcome_time}, a term's matter). Compared by identity: one instance per shape while cached.
   */
  static final class Shape {
    final Map<String, Object> fields;
    final boolean hasTime;
    final TermSet terms;

    Shape(Map<String, Object> fields, boolean hasTime) {
      this.fields = fields;
      this.hasTime = hasTime;
      this.terms = new TermSet(AuditTerms.of(fields));
    }

    String string(String key) {
      return fields.get(key) instanceof String s ? s : null;
    }
  }

  /** A set of terms, with what the index writes of it computed once. */
  static final class TermSet {
    final Set<String> terms;
    final String joined;
    final List<String> indexed;

    TermSet(Set<String> terms) {
      this.terms = terms;
      this.joined = Terms.join(terms);
      List<String> in = new ArrayList<>();
      for (String t : terms) {
        if (Terms.indexed(t)) {
          in.add(t);
        }
      }
      this.indexed = List.copyOf(in);
    }
  }

  /** Shapes recently read, by the bytes of their fields. Not thread-safe: one per writer. */
  static final class Shapes {
    private final Map<Signature, Shape> cache;

    Shapes(int capacity) {
      this.cache =
          new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Signature, Shape> eldest) {
              return size() > capacity;
            }
          };
    }

    void clear() {
      cache.clear();
    }
  }

  private record Signature(byte[] bytes, int hash) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Signature s && s.hash == hash && java.util.Arrays.equals(s.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /**
   * A payload read.
   *
   * @param shape the fields its terms are made of
   * @param scalars the values of {@link #SCALARS} in that order (null when absent or null)
   * @param present which of {@link #SCALARS} it has, as bits
   * @param ranges start and end offsets of each top-level member ({@code "key":value}), in pairs,
   *     when the payload is exactly {@code '{'} those members joined by {@code ','} {@code '}'};
   *     null otherwise
   */
  record Scan(Shape shape, Object[] scalars, int present, int[] ranges) {
    Object time() {
      return scalars[0];
    }

    Object stmt() {
      return scalars[1];
    }

    Object text() {
      return scalars[2];
    }

    Object rows() {
      return scalars[3];
    }

    Object durationMicros() {
      return scalars[4];
    }

    /** The values of {@link #KEYS} the payload has, as {@code only(Payloads.fields(payload))}. */
    Map<String, Object> fields() {
      Map<String, Object> out = new LinkedHashMap<>(shape.fields);
      for (int k = 0; k < SCALARS.length; k++) {
        if ((present & (1 << k)) != 0) {
          out.put(SCALARS[k], scalars[k]);
        }
      }
      return out;
    }
  }

  private final byte[] b;
  private int i;
  private boolean ascii = true;
  private boolean escapedKey;

  private RecordScan(byte[] b) {
    this.b = b;
  }

  /** Reads {@code payload}, finding its shape in (or adding it to) {@code shapes}. */
  static Scan read(byte[] payload, Shapes shapes) {
    RecordScan s = new RecordScan(payload);
    Object[] scalars = new Object[SCALARS.length];
    int[] out = new int[2];
    int[] ranges;
    try {
      ranges = s.top(scalars, out);
    } catch (Unhandled | ArrayIndexOutOfBoundsException e) {
      return fromJackson(payload, null);
    }
    if (!s.ascii) {
      // Strings are Jackson's to decode beyond ASCII (what it accepts as UTF-8 and what the JDK's
      // decoder replaces differ at the edges); the layout found stays right.
      return fromJackson(payload, ranges);
    }
    // The members terms are made of, whole and in order, and whether there is a time.
    int length = 1;
    for (int k = 0; k < ranges.length; k += 2) {
      if (s.kinds[k / 2] == TERM) {
        length += ranges[k + 1] - ranges[k] + 1;
      }
    }
    byte[] sig = new byte[length];
    int p = 0;
    for (int k = 0; k < ranges.length; k += 2) {
      if (s.kinds[k / 2] == TERM) {
        int n = ranges[k + 1] - ranges[k];
        System.arraycopy(payload, ranges[k], sig, p, n);
        p += n;
        sig[p++] = ',';
      }
    }
    boolean hasTime = (out[0] & (1 << TIME)) != 0;
    sig[p] = (byte) (hasTime ? 1 : 0);
    Signature key = new Signature(sig, java.util.Arrays.hashCode(sig));
    Shape shape = shapes == null ? null : shapes.cache.get(key);
    if (shape == null) {
      Map<String, Object> fields = new LinkedHashMap<>();
      for (int k = 0; k < ranges.length; k += 2) {
        if (s.kinds[k / 2] == TERM) {
          s.i = ranges[k];
          String name = s.string(true);
          s.i++; // ':'
          fields.put(name, s.value(1));
        }
      }
      shape = new Shape(fields, hasTime);
      if (shapes != null) {
        shapes.cache.put(key, shape);
      }
    }
    return new Scan(shape, scalars, out[0], ranges);
  }

  /** Reads {@code payload} without a cache of shapes. */
  static Scan read(byte[] payload) {
    return read(payload, null);
  }

  private static Scan fromJackson(byte[] payload, int[] ranges) {
    Map<String, Object> all = only(Payloads.fields(payload));
    Object[] scalars = new Object[SCALARS.length];
    int present = 0;
    for (int k = 0; k < SCALARS.length; k++) {
      if (all.containsKey(SCALARS[k])) {
        present |= 1 << k;
        scalars[k] = all.remove(SCALARS[k]);
      }
    }
    return new Scan(new Shape(all, (present & (1 << TIME)) != 0), scalars, present, ranges);
  }

  /**
   * The members' ranges of {@code payload}, or null when it is not laid out as {@link Scan} says.
   */
  static int[] ranges(byte[] payload) {
    RecordScan s = new RecordScan(payload);
    try {
      return s.top(null, null);
    } catch (Unhandled | ArrayIndexOutOfBoundsException e) {
      return null;
    }
  }

  /** {@code fields} narrowed to {@link #KEYS}, nested objects to their {@code command}. */
  static Map<String, Object> only(Map<String, Object> fields) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : fields.entrySet()) {
      if (KEYS.contains(e.getKey())) {
        out.put(e.getKey(), narrow(e.getValue()));
      }
    }
    return out;
  }

  private static Object narrow(Object value) {
    return switch (value) {
      case Map<?, ?> m -> {
        Map<String, Object> out = new LinkedHashMap<>();
        if (m.containsKey("command")) {
          out.put("command", narrow(m.get("command")));
        }
        yield out;
      }
      case List<?> l -> {
        List<Object> out = new ArrayList<>(l.size());
        for (Object o : l) {
          out.add(narrow(o));
        }
        yield out;
      }
      case null -> null;
      default -> value;
    };
  }

  private static final byte OTHER = 0;
  private static final byte TERM = 1;
  private static final byte SCALAR = 2;

  /** Per top-level member, what {@link #top} found it to be. */
  private byte[] kinds = new byte[16];

  /**
   * Walks the top-level object: its members' ranges, their {@link #kinds}, and (unless {@code
   * scalars} is null) the values of {@link #SCALARS}, with bits of those present in {@code
   * present[0]}.
   */
  private int[] top(Object[] scalars, int[] present) {
    if (b[0] != '{') {
      throw UNHANDLED;
    }
    i = 1;
    int[] ranges = new int[32];
    int n = 0;
    if (b[i] == '}') {
      i++;
      end();
      return new int[0];
    }
    while (true) {
      int start = i;
      string(false);
      if (escapedKey) {
        throw UNHANDLED; // A key is compared by its bytes: an escaped one is Jackson's to decode.
      }
      String key = known(start, i);
      expect(':');
      byte kind = OTHER;
      if (key != null && scalars != null) {
        int slot = scalar(key);
        if (slot >= 0) {
          kind = SCALAR;
          scalars[slot] = value(1);
          present[0] |= 1 << slot;
        } else {
          kind = TERM;
          skip(1);
        }
      } else {
        skip(1);
      }
      if (n + 2 > ranges.length) {
        ranges = java.util.Arrays.copyOf(ranges, ranges.length * 2);
      }
      if (n / 2 >= kinds.length) {
        kinds = java.util.Arrays.copyOf(kinds, kinds.length * 2);
      }
      kinds[n / 2] = kind;
      ranges[n++] = start;
      ranges[n++] = i;
      byte c = b[i++];
      if (c == '}') {
        end();
        return java.util.Arrays.copyOf(ranges, n);
      }
      if (c != ',') {
        throw UNHANDLED;
      }
    }
  }

  /** The key of {@link #KEYS} whose quoted bytes are {@code b[from, to)}, or null. */
  private String known(int from, int to) {
    int c = b[from + 1];
    if (c < 0 || KEY_BYTES[c] == null) {
      return null;
    }
    byte[][] candidates = KEY_BYTES[c];
    for (int k = 0; k < candidates.length; k++) {
      if (java.util.Arrays.equals(b, from, to, candidates[k], 0, candidates[k].length)) {
        return KEY_NAMES[c][k];
      }
    }
    return null;
  }

  private static int scalar(String key) {
    for (int k = 0; k < SCALARS.length; k++) {
      if (SCALARS[k].equals(key)) {
        return k;
      }
    }
    return -1;
  }

  private void end() {
    if (i != b.length) {
      throw UNHANDLED;
    }
  }

  private void expect(char c) {
    if (b[i++] != c) {
      throw UNHANDLED;
    }
  }

  private Object value(int depth) {
    byte c = b[i];
    switch (c) {
      case '"' -> {
        return string(true);
      }
      case '{' -> {
        if (depth > MAX_DEPTH) {
          throw UNHANDLED;
        }
        i++;
        Map<String, Object> m = new LinkedHashMap<>();
        if (b[i] == '}') {
          i++;
          return m;
        }
        while (true) {
          String key = string(true);
          expect(':');
          if (key.equals("command")) {
            m.put(key, value(depth + 1));
          } else {
            skip(depth + 1);
          }
          byte d = b[i++];
          if (d == '}') {
            return m;
          }
          if (d != ',') {
            throw UNHANDLED;
          }
        }
      }
      case '[' -> {
        if (depth > MAX_DEPTH) {
          throw UNHANDLED;
        }
        i++;
        List<Object> list = new ArrayList<>();
        if (b[i] == ']') {
          i++;
          return list;
        }
        while (true) {
          list.add(value(depth + 1));
          byte d = b[i++];
          if (d == ']') {
            return list;
          }
          if (d != ',') {
            throw UNHANDLED;
          }
        }
      }
      case 't' -> {
        literal("true");
        return Boolean.TRUE;
      }
      case 'f' -> {
        literal("false");
        return Boolean.FALSE;
      }
      case 'n' -> {
        literal("null");
        return null;
      }
      default -> {
        return number();
      }
    }
  }

  /** Checks a value's syntax without building it. */
  private void skip(int depth) {
    byte c = b[i];
    switch (c) {
      case '"' -> string(false);
      case '{' -> {
        if (depth > MAX_DEPTH) {
          throw UNHANDLED;
        }
        i++;
        if (b[i] == '}') {
          i++;
          return;
        }
        while (true) {
          string(false);
          expect(':');
          skip(depth + 1);
          byte d = b[i++];
          if (d == '}') {
            return;
          }
          if (d != ',') {
            throw UNHANDLED;
          }
        }
      }
      case '[' -> {
        if (depth > MAX_DEPTH) {
          throw UNHANDLED;
        }
        i++;
        if (b[i] == ']') {
          i++;
          return;
        }
        while (true) {
          skip(depth + 1);
          byte d = b[i++];
          if (d == ']') {
            return;
          }
          if (d != ',') {
            throw UNHANDLED;
          }
        }
      }
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
  }

  private void literal(String word) {
    for (int k = 0; k < word.length(); k++) {
      if (b[i++] != word.charAt(k)) {
        throw UNHANDLED;
      }
    }
  }

  /**
   * An integer as JSON writes one ({@code -?(0|[1-9][0-9]*)}), of at most 18 digits so that it fits
   * a long; a fraction or exponent (a Double for Jackson) is left to Jackson.
   */
  private Long number() {
    boolean negative = b[i] == '-';
    if (negative) {
      i++;
    }
    int start = i;
    long v = 0;
    while (i < b.length && b[i] >= '0' && b[i] <= '9') {
      v = v * 10 + (b[i] - '0');
      i++;
    }
    int digits = i - start;
    if (digits == 0 || digits > 18 || (digits > 1 && b[start] == '0')) {
      throw UNHANDLED;
    }
    byte next = b[i]; // a number never ends a payload: '}' at least follows
    if (next == '.' || next == 'e' || next == 'E') {
      throw UNHANDLED;
    }
    return negative ? -v : v;
  }

  /** A string at {@code i} (its quotes included); decoded when {@code build}, else null. */
  private String string(boolean build) {
    if (b[i] != '"') {
      throw UNHANDLED;
    }
    int start = ++i;
    boolean escaped = false;
    escapedKey = false;
    while (true) {
      // Eight bytes at a time while none of them is a quote, a backslash, a control character or
      // beyond ASCII: most of a payload is plain text.
      while (i + 8 <= b.length) {
        long x = (long) LONG.get(b, i);
        if (((x - 0x2020202020202020L
                    | x
                    | has(x ^ 0x2222222222222222L)
                    | has(x ^ 0x5c5c5c5c5c5c5c5cL))
                & 0x8080808080808080L)
            != 0) {
          break;
        }
        i += 8;
      }
      byte c = b[i];
      if (c == '"') {
        break;
      }
      if (c == '\\') {
        escaped = true;
        i += escapeLength(i);
      } else if (c < 0) {
        ascii = false;
        i++;
      } else if (c < 0x20) {
        throw UNHANDLED; // Jackson refuses a raw control character
      } else {
        i++;
      }
    }
    int end = i++;
    escapedKey = escaped;
    if (!build) {
      return null;
    }
    if (!escaped) {
      return new String(b, start, end - start, StandardCharsets.ISO_8859_1);
    }
    StringBuilder out = new StringBuilder(end - start);
    for (int k = start; k < end; ) {
      byte c = b[k];
      if (c != '\\') {
        out.append((char) (c & 0xff));
        k++;
        continue;
      }
      byte e = b[k + 1];
      switch (e) {
        case '"' -> out.append('"');
        case '\\' -> out.append('\\');
        case '/' -> out.append('/');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        default -> out.append((char) hex4(k + 2)); // 'u', checked by escapeLength
      }
      k += e == 'u' ? 6 : 2;
    }
    // Non-ASCII strings are decoded by Jackson (see read), so a char here is a byte.
    return out.toString();
  }

  /** The length of the escape at {@code k}, checked as Jackson checks it. */
  private int escapeLength(int k) {
    return switch (b[k + 1]) {
      case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> 2;
      case 'u' -> {
        hex4(k + 2);
        yield 6;
      }
      default -> throw UNHANDLED;
    };
  }

  private static final java.lang.invoke.VarHandle LONG =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  /**
   * High bit set in each byte of the result where {@code x} has a zero byte (or may have: then the
   * bytes are looked at one by one).
   */
  private static long has(long x) {
    return x - 0x0101010101010101L;
  }

  private int hex4(int k) {
    int v = 0;
    for (int j = k; j < k + 4; j++) {
      int c = b[j];
      int d =
          c >= '0' && c <= '9'
              ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) {
        throw UNHANDLED;
      }
      v = v * 16 + d;
    }
    return v;
  }
}
