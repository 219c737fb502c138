package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.CanonicalJson;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.server.audit.AuditJson;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TailHubTest {
  private final ChainingTrail trail = new ChainingTrail();
  private final AuditJson json = new AuditJson();
  private final TailHub hub =
      new TailHub(trail, json, Clock.fixed(Instant.parse("2026-11-01T12:00:00Z"), ZoneOffset.UTC));

  @AfterEach
  void close() {
    hub.close();
  }

  private static byte[] intent(String session, long stmt, String user, String text) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("time", "2026-11-01T11:59:00.000000Z");
    f.put("instance", "test");
    f.put("type", "intent");
    f.put("session", session);
    f.put("stmt", stmt);
    f.put("user", user);
    f.put("env", "production");
    f.put("kinds", List.of("write"));
    f.put("text", text);
    f.put("verdict", "allowed");
    return CanonicalJson.encode(f);
  }

  private static byte[] outcome(String session, long stmt, long rows) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("time", "2026-11-01T11:59:01.000000Z");
    f.put("instance", "test");
    f.put("type", "outcome");
    f.put("session", session);
    f.put("stmt", stmt);
    f.put("status", "ok");
    f.put("rows", rows);
    f.put("duration_us", 1200L);
    return CanonicalJson.encode(f);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> next(TailHub.Subscription s) throws InterruptedException {
    TailHub.TailEvent event = s.poll(5, TimeUnit.SECONDS);
    assertThat(event).as("an event arrives").isNotNull();
    return (Map<String, Object>) json.read(event.json());
  }

  @Test
  void anOutcomeIsMatchedWithItsIntentsFields() throws Exception {
    TailHub.Subscription big = hub.subscribe(AuditQuery.parse("user:alice rows>5"), 100);
    TailHub.Subscription all = hub.subscribe(AuditQuery.parse("user:alice"), 100);
    trail.appendPayload(intent("s1", 1, "alice", "DELETE FROM orders WHERE id < 10"));
    trail.appendPayload(intent("s2", 1, "bob", "DELETE FROM orders WHERE id < 99"));
    trail.appendPayload(outcome("s2", 1, 90));
    trail.appendPayload(outcome("s1", 1, 9));

    Map<String, Object> merged = next(big);
    assertThat(merged)
        .containsEntry("seq", 4L)
        .containsEntry("user", "alice")
        .containsEntry("text", "DELETE FROM orders WHERE id < 10")
        .containsEntry("rows", 9L)
        .containsEntry("status", "ok")
        .containsEntry("outcome_time", "2026-11-01T11:59:01.000000Z");
    assertThat(big.poll(100, TimeUnit.MILLISECONDS)).as("bob's statement is not shown").isNull();

    assertThat(next(all)).containsEntry("seq", 1L).doesNotContainKey("rows");
    assertThat(next(all)).containsEntry("seq", 4L).containsEntry("rows", 9L);
    assertThat(all.poll(100, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void aClientThatFallsBehindIsToldAfterWhatItGot() throws Exception {
    TailHub.Subscription slow = hub.subscribe(AuditQuery.all(), 2);
    for (int i = 1; i <= 5; i++) {
      trail.appendPayload(intent("s" + i, 1, "alice", "SELECT " + i));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!slow.fellBehind() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(slow.fellBehind()).isTrue();
    assertThat(next(slow)).containsEntry("seq", 1L);
    assertThat(slow.overflowed()).isFalse();
    assertThat(next(slow)).containsEntry("seq", 2L);
    assertThat(slow.poll(100, TimeUnit.MILLISECONDS)).isNull();
    assertThat(slow.overflowed()).isTrue();
    trail.appendPayload(intent("s9", 1, "alice", "SELECT 9"));
    assertThat(slow.poll(100, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void closingEndsEveryFollower() {
    TailHub.Subscription s = hub.subscribe(AuditQuery.all(), 10);
    hub.close();
    assertThat(s.ended()).isTrue();
  }
}
