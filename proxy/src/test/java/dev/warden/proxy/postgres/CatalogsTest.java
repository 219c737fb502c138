package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Relations;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CatalogsTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final Catalogs catalogs = new Catalogs(Duration.ofSeconds(30), now::get);
  private final Catalogs.Key key = new Catalogs.Key("prod", "app", "warden");

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Relations load() {
    Catalogs.Load load = new Catalogs.Load(key);
    load.row(List.of(b("r"), b("public"), b("orders")));
    load.row(List.of(b("r"), b("billing"), b("orders")));
    load.row(List.of(b("p"), b("pg_catalog"), b("0000000001")));
    load.row(List.of(b("p"), b("public"), b("0000000002")));
    return load.relations();
  }

  @Test
  void oneSessionLoadsAtATimeAndASnapshotServesUntilItIsOldOrStale() {
    assertThat(catalogs.current(key)).isSameAs(Relations.NONE);
    assertThat(catalogs.claimLoad(key)).isTrue();
    assertThat(catalogs.claimLoad(key)).as("another session while loading").isFalse();
    Relations r = load();
    catalogs.loaded(key, r);
    assertThat(catalogs.current(key)).isSameAs(r);
    assertThat(r.schemaOf("orders")).contains("public");
    assertThat(catalogs.claimLoad(key)).isFalse();

    now.addAndGet(Duration.ofSeconds(31).toNanos());
    assertThat(catalogs.claimLoad(key)).as("older than the maximum age").isTrue();
    catalogs.loaded(key, load());
    assertThat(catalogs.claimLoad(key)).isFalse();

    catalogs.invalidate(key);
    assertThat(catalogs.current(key)).as("still used until replaced").isNotSameAs(Relations.NONE);
    assertThat(catalogs.claimLoad(key)).as("after a schema change").isTrue();
    catalogs.failed(key);
    assertThat(catalogs.claimLoad(key)).as("a failed load is tried again").isTrue();
  }

  @Test
  void aLoadThatFailedOrHasNoSearchPathResolvesNothing() {
    Catalogs.Load failed = new Catalogs.Load(key);
    failed.row(List.of(b("r"), b("public"), b("orders")));
    failed.failed();
    assertThat(failed.relations().known()).isFalse();
    Catalogs.Load noPath = new Catalogs.Load(key);
    noPath.row(List.of(b("r"), b("public"), b("orders")));
    assertThat(noPath.relations().known()).isFalse();
  }
}
