package dev.warden.server.audit;

import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * JSON lines: one record per line, appended to a file (fsynced before the cursor moves) or written
 * to standard output. The file is opened for each batch, so a log rotator that moves it away simply
 * makes the next batch start a new file. A new file is readable only by Warden's user: it holds the
 * same statements as the trail.
 */
final class JsonLinesSink implements Sink {
  private final Optional<Path> file;
  private final PrintStream stdout;
  private final AuditJson json;
  private final String name;

  private final int batchSize;

  JsonLinesSink(
      String name, Optional<Path> file, PrintStream stdout, AuditJson json, int batchSize) {
    this.name = Objects.requireNonNull(name, "name");
    this.batchSize = batchSize;
    this.file = Objects.requireNonNull(file, "file");
    this.stdout = Objects.requireNonNull(stdout, "stdout");
    this.json = Objects.requireNonNull(json, "json");
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int batchSize() {
    return batchSize;
  }

  @Override
  public void deliver(String logId, List<ChainedRecord> batch) throws IOException {
    StringBuilder text = new StringBuilder(batch.size() * 512);
    for (ChainedRecord record : batch) {
      text.append(json.write(json.exported(logId, record))).append('\n');
    }
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    if (file.isEmpty()) {
      stdout.write(bytes, 0, bytes.length);
      stdout.flush();
      if (stdout.checkError()) {
        throw new IOException("cannot write to standard output");
      }
      return;
    }
    Path path = file.get();
    try (FileChannel channel =
        FileChannel.open(
            path,
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      long start = channel.size();
      try {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(false);
      } catch (IOException e) {
        // A half-written batch would leave a broken line before the batch is written again.
        try {
          channel.truncate(start);
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    } catch (IOException e) {
      throw new IOException("cannot append to " + path + ": " + reason(e), e);
    }
  }

  private static String reason(IOException e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
