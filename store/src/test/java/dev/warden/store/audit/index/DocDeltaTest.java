package dev.warden.store.audit.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.ChainedRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records stored as deltas from a base come back byte for byte, in the codec and in the index file
 * (every entry's record and outcome are the log's payloads), and a damaged delta is an error.
 */
class DocDeltaTest {
  @TempDir Path dir;

  @Test
  void everyPairOfRecordsRoundTrips() {
    List<byte[]> payloads = new ArrayList<>();
    for (List<ChainedRecord> log : AuditFixture.randomLogs(7L, 300).values()) {
      for (ChainedRecord r : log) {
        payloads.add(r.payload());
      }
    }
    int deltas = 0;
    for (int a = 0; a < payloads.size(); a += 3) {
      for (int b = 0; b < payloads.size(); b += 29) {
        byte[] doc = payloads.get(a);
        byte[] base = payloads.get(b);
        int[] ranges = RecordScan.ranges(doc);
        int[] baseRanges = RecordScan.ranges(base);
        if (ranges == null || baseRanges == null) {
          continue;
        }
        byte[] delta = DocDelta.encode(doc, ranges, base, baseRanges);
        if (delta != null) {
          deltas++;
          assertThat(delta.length).isLessThanOrEqualTo(doc.length * 3 / 4);
          assertThat(DocDelta.decode(delta, base, baseRanges)).isEqualTo(doc);
        }
      }
    }
    assertThat(deltas).isGreaterThan(500);
  }

  @Test
  void aDamagedDeltaIsAnError() {
    byte[] base = "{\"a\":1,\"b\":2}".getBytes(StandardCharsets.UTF_8);
    int[] ranges = RecordScan.ranges(base);
    assertThat(DocDelta.decode(new byte[] {1, 3}, base, ranges)).isEqualTo(base);
    assertThatThrownBy(() -> DocDelta.decode(new byte[] {5}, base, ranges))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> DocDelta.decode(new byte[] {8, 'x'}, base, ranges))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> DocDelta.decode(new byte[] {(byte) 0x81}, base, ranges))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theIndexFileHoldsEveryRecordOfTheLogByteForByte() throws Exception {
    Map<String, List<ChainedRecord>> logs = AuditFixture.randomLogs(20261128L, 1200);
    Path file = dir.resolve("index.db");
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, 40)) {
      for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
        List<ChainedRecord> records = log.getValue();
        int step = 1;
        for (int from = 0; from < records.size(); ) {
          int to = Math.min(records.size(), from + step);
          index.accept(log.getKey(), records.subList(from, to));
          from = to;
          step = step * 5 % 23 + 1;
        }
      }
    }
    int deltas = 0;
    int outcomes = 0;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT log_id, seq, doc, base, outcome_seq, outcome, outcome_base FROM entries")) {
      Map<String, Integer> entries = new HashMap<>();
      while (r.next()) {
        List<ChainedRecord> log = logs.get(r.getString(1));
        byte[] doc = whole(c, "doc", r.getLong(4), r.wasNull(), r.getBytes(3));
        assertThat(doc).isEqualTo(log.get((int) r.getLong(2) - 1).payload());
        long outcomeSeq = r.getLong(5);
        if (!r.wasNull()) {
          byte[] outcome = whole(c, "outcome", r.getLong(7), r.wasNull(), r.getBytes(6));
          assertThat(outcome).isEqualTo(log.get((int) outcomeSeq - 1).payload());
          outcomes++;
        }
        deltas += r.getObject(4) == null ? 0 : 1;
        entries.merge(r.getString(1), 1, Integer::sum);
      }
      assertThat(entries).containsOnlyKeys(logs.keySet());
    }
    assertThat(deltas).isGreaterThan(300);
    assertThat(outcomes).isGreaterThan(300);
  }

  private static byte[] whole(Connection c, String column, long base, boolean none, byte[] stored)
      throws Exception {
    if (none) {
      return stored;
    }
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT "
                + column
                + ", "
                + (column.equals("doc") ? "base" : "outcome_base")
                + " FROM entries WHERE id = ?")) {
      p.setLong(1, base);
      try (ResultSet r = p.executeQuery()) {
        assertThat(r.next()).isTrue();
        byte[] whole = r.getBytes(1);
        assertThat(r.getObject(2)).as("a base is stored whole").isNull();
        return DocDelta.decode(stored, whole, RecordScan.ranges(whole));
      }
    }
  }
}
