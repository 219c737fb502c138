package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The queue of what the server still owes, around an error in an extended-protocol batch. */
class ExchangesTest {
  @Test
  void anErrorSkipsTheRestOfTheBatchUpToItsSync() {
    Exchanges due = new Exchanges();
    due.add(Exchanges.PARSE);
    due.add(Exchanges.BIND);
    due.add(Exchanges.EXECUTE);
    due.add(Exchanges.SYNC);
    due.add(Exchanges.QUERY);

    due.skipToSync();

    assertThat(due.headKind()).isEqualTo(Exchanges.SYNC);
    due.pop();
    assertThat(due.headKind()).isEqualTo(Exchanges.QUERY);
  }

  @Test
  void messagesAddedAfterAnErrorBeforeTheirBatchsSyncAreSkippedToo() {
    Exchanges due = new Exchanges();
    due.add(Exchanges.PARSE);
    due.add(Exchanges.BIND);

    due.skipToSync(); // the Sync, and what comes before it, were not forwarded yet
    due.add(Exchanges.EXECUTE, Exchanges.WARDEN_SILENT, "a guard's step");
    due.add(Exchanges.EXECUTE);
    assertThat(due.isEmpty()).isTrue();
    assertThat(due.idle()).isFalse(); // a message sent now would be skipped too

    Object mark = new Object();
    due.add(Exchanges.SYNC, Exchanges.CLIENT, mark);
    due.add(Exchanges.PARSE);
    assertThat(due.headKind()).isEqualTo(Exchanges.SYNC);
    assertThat(due.headPayload()).isSameAs(mark);
    due.pop();
    assertThat(due.headKind()).isEqualTo(Exchanges.PARSE);
    due.pop();
    assertThat(due.idle()).isTrue();
  }
}
