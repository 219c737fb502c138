package dev.warden.store.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The few file operations the audit log needs, so that tests can make a write or an fsync fail
 * (THREATS H6) without a broken disk.
 */
interface LogFile extends AutoCloseable {
  void write(ByteBuffer bytes) throws IOException;

  /** Makes everything written so far durable ({@code fdatasync}). */
  void force() throws IOException;

  long size() throws IOException;

  void truncate(long size) throws IOException;

  @Override
  void close() throws IOException;

  /** Opens files for the log. */
  interface Opener {
    LogFile open(Path path) throws IOException;
  }

  /** The real thing: a FileChannel opened for appending. */
  Opener DISK =
      path -> {
        FileChannel channel =
            FileChannel.open(
                path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel.position(channel.size());
        return new LogFile() {
          @Override
          public void write(ByteBuffer bytes) throws IOException {
            while (bytes.hasRemaining()) {
              channel.write(bytes);
            }
          }

          @Override
          public void force() throws IOException {
            channel.force(false);
          }

          @Override
          public long size() throws IOException {
            return channel.size();
          }

          @Override
          public void truncate(long size) throws IOException {
            channel.truncate(size);
            channel.position(size);
          }

          @Override
          public void close() throws IOException {
            channel.close();
          }
        };
      };
}
