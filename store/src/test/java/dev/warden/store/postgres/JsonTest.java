package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aPayloadWithoutANulEscapeIsParsedByPostgresAsItIs() {
    assertThat(Json.docText(utf8("{\"text\":\"SELECT 1\"}"))).isNull();
  }

  @Test
  void onlyARealNulEscapeIsReplaced() {
    assertThat(Json.docText(utf8("{\"a\":\"x\\u0000y\",\"b\":\"\\\\u0000\"}")))
        .isEqualTo("{\"a\":\"x\\ufffdy\",\"b\":\"\\\\u0000\"}");
    assertThat(Json.docText(utf8("{\"a\":\"\\\\\\u0000\"}"))).isEqualTo("{\"a\":\"\\\\\\ufffd\"}");
  }

  @Test
  void valuesCompareAsJsonbDoesWhateverTheKeyOrderAndSpacing() throws Exception {
    Object canonical = Json.parse("{\"a\":[1,\"x\",true,null],\"b\":{\"c\":-20}}");
    Object postgres = Json.parse("{\"b\": {\"c\": -20}, \"a\": [1, \"x\", true, null]}");
    assertThat(postgres).isEqualTo(canonical);
    assertThat(Json.parse("[1.50, 2e2]"))
        .isEqualTo(List.of(new BigDecimal("1.5"), new BigDecimal("2E+2")));
    assertThat(Json.parse("{\"s\":\"\\u00e9\\n\\\"\"}")).isEqualTo(Map.of("s", "é\n\""));
    assertThat(Json.parse("{\"a\":1}")).isNotEqualTo(Json.parse("{\"a\":2}"));
    assertThat(Json.parse("[1,2]")).isNotEqualTo(Json.parse("[2,1]"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "[1,]",
        "\"open",
        "tru",
        "{\"a\":1} x",
        "\"\\q\"",
        "\"\\u12\"",
        "-",
        "\"a\u0001\""
      })
  void malformedJsonIsRefused(String text) {
    assertThatThrownBy(() -> Json.parse(text)).isInstanceOf(Json.MalformedException.class);
  }

  @Test
  void deepNestingIsRefusedRatherThanOverflowingTheStack() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    assertThatThrownBy(() -> Json.parse(deep))
        .isInstanceOf(Json.MalformedException.class)
        .hasMessageContaining("nested more than");
  }
}
