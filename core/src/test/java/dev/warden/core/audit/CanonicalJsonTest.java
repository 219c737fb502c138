package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
  static String json(Object v) {
    return new String(CanonicalJson.encode(v), StandardCharsets.UTF_8);
  }

  @Test
  void keysAreSortedAndTheOrderOfInsertionDoesNotMatter() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("z", 1L);
    a.put("a", List.of(true, "x"));
    a.put("m", null);
    Map<String, Object> b = new HashMap<>();
    b.put("m", null);
    b.put("a", List.of(true, "x"));
    b.put("z", 1);
    assertThat(json(a)).isEqualTo("{\"a\":[true,\"x\"],\"m\":null,\"z\":1}");
    assertThat(Arrays.equals(CanonicalJson.encode(a), CanonicalJson.encode(b))).isTrue();
  }

  @Test
  void controlCharactersQuotesAndBackslashesAreEscapedAndTheRestIsUtf8() {
    String sql = "SELECT '\"x\"\\'; -- \n\t\u001b[31mred\u0000 é ✓";
    assertThat(json(Map.of("sql", sql)))
        .isEqualTo("{\"sql\":\"SELECT '\\\"x\\\"\\\\'; -- \\n\\t\\u001b[31mred\\u0000 é ✓\"}");
    assertThat(json(Map.of("sql", sql))).doesNotContain("\n").doesNotContain("\u001b");
  }

  @Test
  void keysAreSortedByUtf16CodeUnitsAsRfc8785SaysNotByCodePoint() {
    Map<String, Object> m = new HashMap<>();
    m.put("\uffff", 8L);
    m.put("\ue000", 7L);
    m.put("\ud83d\ude00", 6L); // U+1F600: by code point it would come last
    m.put("z", 5L);
    m.put("ab", 4L);
    m.put("a", 3L);
    m.put("Z", 2L);
    m.put("", 1L);
    assertThat(json(m))
        .isEqualTo("{\"\":1,\"Z\":2,\"a\":3,\"ab\":4,\"z\":5,\"😀\":6,\"\ue000\":7,\"\uffff\":8}");
  }

  @Test
  void everyControlCharacterIsEscapedAndNothingElseIs() {
    StringBuilder controls = new StringBuilder();
    for (char c = 0; c < 0x20; c++) {
      controls.append(c);
    }
    assertThat(json(controls.toString()))
        .isEqualTo(
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
                + "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
                + "\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
    // DEL, the solidus and the Unicode line separators are not escaped, as in RFC 8785.
    assertThat(json("\u007f/\u2028\u2029 ~")).isEqualTo("\"\u007f/\u2028\u2029 ~\"");
  }

  @Test
  void nonAsciiIsUtf8OfOneToFourBytes() {
    assertThat(CanonicalJson.encode("\u00e9\u07ff\u0800\u2713\uffff\ud83d\ude00\udbff\udfff"))
        .isEqualTo(
            bytes(
                0x22, 0xc3, 0xa9, 0xdf, 0xbf, 0xe0, 0xa0, 0x80, 0xe2, 0x9c, 0x93, 0xef, 0xbf, 0xbf,
                0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x8f, 0xbf, 0xbf, 0x22));
  }

  @Test
  void anUnpairedSurrogateIsAQuestionMark() {
    assertThat(json("a\ud800b\udc00c\ud83d")).isEqualTo("\"a?b?c?\"");
    assertThat(json("\ude00\ud83d")).isEqualTo("\"??\"");
    assertThat(json("\ud800\n\ud800\"")).isEqualTo("\"?\\n?\\\"\"");
    // Keys too, and they are sorted before the replacement: "\ud800" after "?".
    Map<String, Object> m = new HashMap<>();
    m.put("\ud800", 1L);
    m.put("?", 2L);
    assertThat(json(m)).isEqualTo("{\"?\":2,\"?\":1}");
  }

  @Test
  void numbersBooleansNullAndEmptyContainers() {
    Map<String, Object> m = new HashMap<>();
    m.put("i", Integer.MIN_VALUE);
    m.put("j", Integer.MAX_VALUE);
    m.put("l", Long.MIN_VALUE);
    m.put("m", Long.MAX_VALUE);
    m.put("n", -7L);
    m.put("z", 0);
    m.put("e", Map.of());
    m.put("f", List.of());
    m.put("g", List.of(Map.of(), List.of(), false, true));
    m.put("h", Arrays.asList(null, "", 10L));
    assertThat(json(m))
        .isEqualTo(
            "{\"e\":{},\"f\":[],\"g\":[{},[],false,true],\"h\":[null,\"\",10],"
                + "\"i\":-2147483648,\"j\":2147483647,\"l\":-9223372036854775808,"
                + "\"m\":9223372036854775807,\"n\":-7,\"z\":0}");
    assertThat(json(null)).isEqualTo("null");
  }

  @Test
  void whatJsonCannotSayExactlyIsRefused() {
    assertThatThrownBy(() -> CanonicalJson.encode(Map.of("f", 1.5)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanonicalJson.encode(Map.of(1, "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a JSON object key must be a string: 1");
    Map<String, Object> nullKey = new HashMap<>();
    nullKey.put(null, "x");
    assertThatThrownBy(() -> CanonicalJson.encode(List.of(nullKey)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a JSON object key must be a string: null");
    assertThatThrownBy(() -> CanonicalJson.encode(List.of(new StringBuilder("x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not encodable in an audit record: StringBuilder");
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }
}
