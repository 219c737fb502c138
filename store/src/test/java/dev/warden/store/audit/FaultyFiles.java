package dev.warden.store.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The audit log's file seam with switches (THREATS H6): writes, fsyncs or the free-space check fail
 * while a switch is on, and every operation is counted, so a test can prove there was no retry.
 */
final class FaultyFiles implements LogFile.Opener {
  final AtomicBoolean failWrites = new AtomicBoolean();
  final AtomicBoolean failForce = new AtomicBoolean();

  /** While set, fsyncs wait until it is counted down: the writer is stuck on a slow disk. */
  volatile java.util.concurrent.CountDownLatch forceGate;

  /** The free space to report, or -1 for the real one. */
  final AtomicLong usable = new AtomicLong(-1);

  final AtomicInteger writes = new AtomicInteger();
  final AtomicInteger failedWrites = new AtomicInteger();
  final AtomicInteger forces = new AtomicInteger();
  final AtomicInteger failedForces = new AtomicInteger();
  final AtomicInteger directorySyncs = new AtomicInteger();

  /** When the last fsync happened (System.nanoTime). */
  final AtomicLong lastForceNanos = new AtomicLong();

  @Override
  public LogFile open(Path path) throws IOException {
    LogFile real = LogFile.DISK.open(path);
    return new LogFile() {
      @Override
      public void write(ByteBuffer bytes) throws IOException {
        writes.incrementAndGet();
        if (failWrites.get()) {
          failedWrites.incrementAndGet();
          // Half the bytes reach the file, as when a disk fills up in the middle of a write.
          ByteBuffer half = bytes.duplicate();
          half.limit(half.position() + half.remaining() / 2);
          real.write(half);
          throw new IOException("No space left on device (injected)");
        }
        real.write(bytes);
      }

      @Override
      public void force() throws IOException {
        forces.incrementAndGet();
        java.util.concurrent.CountDownLatch gate = forceGate;
        if (gate != null) {
          try {
            gate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        if (failForce.get()) {
          failedForces.incrementAndGet();
          throw new IOException("Input/output error (injected)");
        }
        real.force();
        lastForceNanos.set(System.nanoTime());
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
  }

  @Override
  public void syncDirectory(Path directory) throws IOException {
    directorySyncs.incrementAndGet();
    LogFile.Opener.super.syncDirectory(directory);
  }

  @Override
  public long usableSpace(Path directory) throws IOException {
    long u = usable.get();
    return u >= 0 ? u : LogFile.Opener.super.usableSpace(directory);
  }
}
