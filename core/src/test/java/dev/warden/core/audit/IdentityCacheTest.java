package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentityCacheTest {
  @Test
  void aKeySeenBeforeIsNotComputedAgain() {
    IdentityCache<Object, String> cache = new IdentityCache<>(64);
    AtomicInteger computed = new AtomicInteger();
    Object key = new Object();
    assertThat(cache.get(key, k -> "v" + computed.incrementAndGet())).isEqualTo("v1");
    assertThat(cache.get(key, k -> "v" + computed.incrementAndGet())).isEqualTo("v1");
    assertThat(computed).hasValue(1);
  }

  @Test
  void anEqualButDifferentKeyIsAnotherKey() {
    IdentityCache<String, String> cache = new IdentityCache<>(64);
    String a = new String("same");
    String b = new String("same");
    cache.get(a, k -> "a");
    assertThat(cache.get(b, k -> "b")).isEqualTo("b");
  }

  @Test
  void itHoldsNoMoreThanItsSlotsAndAnEvictedKeyIsComputedAgain() {
    IdentityCache<Object, Object> cache = new IdentityCache<>(4);
    List<Object> keys = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      keys.add(new Object());
    }
    AtomicInteger computed = new AtomicInteger();
    for (Object k : keys) {
      cache.get(k, x -> computed.incrementAndGet());
    }
    int hits = 0;
    for (Object k : keys) {
      int before = computed.get();
      Object v = cache.get(k, x -> -computed.incrementAndGet());
      hits += computed.get() == before ? 1 : 0;
      assertThat(v).isNotNull();
    }
    assertThat(hits).isLessThanOrEqualTo(4);
    assertThat(computed.get()).isGreaterThanOrEqualTo(196);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 3, -8, 1000})
  void theSizeMustBeAPowerOfTwo(int slots) {
    assertThatThrownBy(() -> new IdentityCache<>(slots))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the number of slots must be a power of two: " + slots);
  }
}
