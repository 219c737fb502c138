package dev.warden.store.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The few file operations the audit log's writer needs, so that tests can make a write, an fsync or
 * the free-space check fail (THREATS H6) without a broken disk.
 */
interface LogFile extends AutoCloseable {
  /** Writes all of {@code bytes} at the end of the file. */
  void write(ByteBuffer bytes) throws IOException;

  /** Makes everything written so far durable ({@code fdatasync}). */
  void force() throws IOException;

  long size() throws IOException;

  /** Cuts the file to {@code size} bytes; later writes go after them. */
  void truncate(long size) throws IOException;

  @Override
  void close() throws IOException;

  /** Opens files for the log, and answers what the log asks of their file system. */
  interface Opener {
    /** Opens {@code path} for appending, creating it if it does not exist. */
    LogFile open(Path path) throws IOException;

    /** Makes the directory's entries (files created, deleted) durable. */
    default void syncDirectory(Path directory) throws IOException {
      try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
        dir.force(true);
      }
    }

    /** The bytes a new file in {@code directory} can still take. */
    default long usableSpace(Path directory) throws IOException {
      return Files.getFileStore(directory).getUsableSpace();
    }
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
