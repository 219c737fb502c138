package dev.warden.store.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainVerifier;
import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  static final String LOG = "test-log";
  @TempDir Path dir;

  static byte[] payload(int i) {
    return ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8);
  }

  static void assertIntact(List<ChainedRecord> records) throws Exception {
    var key = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    ChainVerifier.Result r = ChainVerifier.verify(LOG, records, List.of(), key.getPublic());
    assertThat(r.intact()).as(r.reason()).isTrue();
  }

  @Test
  void recordsFromManyThreadsAreDurableInOneChainAndSurviveAReopen() throws Exception {
    List<CompletableFuture<ChainedRecord>> futures = new ArrayList<>();
    try (AuditLog log = AuditLog.open(dir, LOG)) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int base = t * 250;
        threads.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = 0; i < 250; i++) {
                        synchronized (futures) {
                          futures.add(log.append(payload(base + i)));
                        }
                      }
                    }));
      }
      for (Thread t : threads) {
        t.join();
      }
      for (CompletableFuture<ChainedRecord> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
    }
    AuditLog.Contents contents = AuditLog.read(dir);
    assertThat(contents.problem()).isEmpty();
    assertThat(contents.records()).hasSize(1000);
    assertIntact(contents.records());

    try (AuditLog log = AuditLog.open(dir, LOG)) {
      assertThat(log.append(payload(1000)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(1001);
    }
    assertIntact(AuditLog.read(dir).records());
  }

  @Test
  void aTornTailIsCutOffAndRecordedOnReopen() throws Exception {
    try (AuditLog log = AuditLog.open(dir, LOG)) {
      for (int i = 0; i < 10; i++) {
        log.append(payload(i)).get(10, TimeUnit.SECONDS);
      }
    }
    Path file = dir.resolve(AuditLog.FILE);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 3); // a crash in the middle of writing record 10
    }
    assertThat(AuditLog.read(dir).problem()).contains("cut short");
    try (AuditLog log = AuditLog.open(dir, LOG)) {
      log.append(payload(99)).get(10, TimeUnit.SECONDS);
    }
    AuditLog.Contents after = AuditLog.read(dir);
    assertThat(after.problem()).isEmpty();
    assertThat(after.records()).hasSize(11); // 9 intact, the recovery record, the new one
    assertThat(new String(after.records().get(9).payload(), StandardCharsets.UTF_8))
        .contains("torn-tail-removed");
    assertIntact(after.records());
  }

  @Test
  void damageBeforeTheEndRefusesToOpen() throws Exception {
    try (AuditLog log = AuditLog.open(dir, LOG)) {
      for (int i = 0; i < 5; i++) {
        log.append(payload(i)).get(10, TimeUnit.SECONDS);
      }
    }
    try (FileChannel ch = FileChannel.open(dir.resolve(AuditLog.FILE), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x7f}), 30); // inside record 1
    }
    assertThatThrownBy(() -> AuditLog.open(dir, LOG))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("damaged");
  }

  @Test
  void aFailedFsyncFailsTheBatchAndEveryLaterRecordWithoutRetrying() throws Exception {
    AtomicInteger forces = new AtomicInteger();
    LogFile.Opener failing =
        path -> {
          LogFile real = LogFile.DISK.open(path);
          return new LogFile() {
            @Override
            public void write(ByteBuffer bytes) throws IOException {
              real.write(bytes);
            }

            @Override
            public void force() throws IOException {
              if (forces.incrementAndGet() >= 2) {
                throw new IOException("EIO (injected)");
              }
              real.force();
            }

            @Override
            public long size() throws IOException {
              return real.size();
            }

            @Override
            public void truncate(long size) throws IOException {
              real.truncate(size);
            }

            @Override
            public void close() throws IOException {
              real.close();
            }
          };
        };
    try (AuditLog log = AuditLog.open(dir, LOG, failing)) {
      log.append(payload(1)).get(10, TimeUnit.SECONDS);
      CompletableFuture<ChainedRecord> second = log.append(payload(2));
      assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(AuditUnavailableException.class);
      assertThat(log.healthy()).isFalse();
      CompletableFuture<ChainedRecord> third = log.append(payload(3));
      assertThatThrownBy(() -> third.get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(AuditUnavailableException.class);
      assertThat(forces.get()).isEqualTo(2); // no retry
    }
  }
}
