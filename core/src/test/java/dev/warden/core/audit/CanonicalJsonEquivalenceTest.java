package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link CanonicalJson} writes bytes directly now; over thousands of random values (nested maps and
 * lists, any string) they must be the bytes of the original encoding ({@link
 * CanonicalJsonOriginal}), which the records already in trails were hashed over.
 */
class CanonicalJsonEquivalenceTest {
  @Test
  void randomValuesEncodeAsTheOriginalEncoderDid() {
    RandomAudit random = new RandomAudit(42);
    for (int n = 0; n < 20_000; n++) {
      Object value = random.value(3);
      byte[] expected = CanonicalJsonOriginal.encode(value);
      byte[] actual = CanonicalJson.encode(value);
      if (!java.util.Arrays.equals(actual, expected)) {
        assertThat(new String(actual, StandardCharsets.UTF_8))
            .as("encoding of %s", value)
            .isEqualTo(new String(expected, StandardCharsets.UTF_8));
        assertThat(actual).as("bytes of %s", value).isEqualTo(expected);
      }
    }
  }

  @Test
  void longStringsGrowTheBufferAndStayEqual() {
    RandomAudit random = new RandomAudit(43);
    for (int n = 0; n < 50; n++) {
      String s = random.string(3000);
      assertThat(CanonicalJson.encode(Map.of(s, List.of(s, s))))
          .isEqualTo(CanonicalJsonOriginal.encode(Map.of(s, List.of(s, s))));
    }
  }

  @Test
  void equalKeysOfAnIdentityMapCollapseToTheLastAsInATreeMap() {
    Map<String, Object> m = new IdentityHashMap<>();
    m.put(new String("k"), 1L);
    m.put(new String("k"), 2L);
    m.put("j", true);
    assertThat(CanonicalJson.encode(m)).isEqualTo(CanonicalJsonOriginal.encode(m));
    assertThat(new String(CanonicalJson.encode(m), StandardCharsets.UTF_8))
        .startsWith("{\"j\":true,\"k\":");
  }

  @Test
  void badValuesAreRefusedAsBefore() {
    RandomAudit random = new RandomAudit(44);
    for (Object bad : List.<Object>of(1.5, 2.5f, (short) 3, 'c', new Object(), new int[0])) {
      // A random value may be null, which List.of refuses.
      Object value = Map.of("a", java.util.Arrays.asList(random.value(2), bad));
      assertThatThrownBy(() -> CanonicalJsonOriginal.encode(value))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> CanonicalJson.encode(value))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("not encodable in an audit record: ");
    }
  }
}
