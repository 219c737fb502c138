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
  void whatJsonCannotSayExactlyIsRefused() {
    assertThatThrownBy(() -> CanonicalJson.encode(Map.of("f", 1.5)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanonicalJson.encode(Map.of(1, "x")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
