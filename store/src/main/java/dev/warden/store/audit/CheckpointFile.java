package dev.warden.store.audit;

import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A file of signed checkpoints, one line each, only ever appended to (so that it can live in a
 * witness directory where Warden may append but not rewrite, e.g. a file with {@code chattr +a}):
 *
 * <pre>cp1 LOG_ID SEQ WALL_TIME_MILLIS HASH_HEX PREVIOUS_SIGNATURE_HEX|- SIGNATURE_HEX</pre>
 *
 * <p>A crash can leave the last line cut short; the writer ends such a line before appending, and
 * readers skip lines they cannot read, reporting them. Skipping cannot hide a removed checkpoint:
 * each names the signature of the one before it.
 */
final class CheckpointFile {
  /** The checkpoints beside the log. */
  static final String LOCAL = "checkpoints.log";

  private static final String VERSION = "cp1";
  private static final HexFormat HEX = HexFormat.of();

  private CheckpointFile() {}

  /** The file of log {@code logId}'s checkpoints in a witness directory. */
  static String witnessName(String logId) {
    return logId + ".checkpoints";
  }

  /** The public key's copy in a witness directory. */
  static String witnessKeyName(String logId) {
    return logId + ".pub";
  }

  static String line(Checkpoint cp) {
    byte[] previous = cp.previousSignature();
    return VERSION
        + ' '
        + cp.logId()
        + ' '
        + cp.seq()
        + ' '
        + cp.wallTimeMillis()
        + ' '
        + HEX.formatHex(cp.hash())
        + ' '
        + (previous.length == 0 ? "-" : HEX.formatHex(previous))
        + ' '
        + HEX.formatHex(cp.signature())
        + '\n';
  }

  /** Parses one line (without its newline); throws IllegalArgumentException when it is not one. */
  static Checkpoint parse(String line) {
    String[] f = line.split(" ", -1);
    if (f.length != 7 || !f[0].equals(VERSION)) {
      throw new IllegalArgumentException("not a checkpoint line");
    }
    return new Checkpoint(
        Segments.checkLogId(f[1]),
        Long.parseLong(f[2]),
        hex(f[4], 32),
        Long.parseLong(f[3]),
        f[5].equals("-") ? new byte[0] : hex(f[5], 64),
        hex(f[6], 64));
  }

  private static byte[] hex(String s, int length) {
    byte[] b = HEX.parseHex(s);
    if (b.length != length) {
      throw new IllegalArgumentException("expected " + length + " bytes");
    }
    return b;
  }

  /**
   * A checkpoint file as read.
   *
   * @param unreadable the lines that are not checkpoints, as "line N" descriptions
   * @param endsCleanly false when the last line has no newline (cut short by a crash)
   */
  record Contents(List<Checkpoint> checkpoints, List<String> unreadable, boolean endsCleanly) {
    static final Contents NONE = new Contents(List.of(), List.of(), true);

    Checkpoint last() {
      return checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
    }
  }

  /** Reads {@code file}; an absent file holds no checkpoints. */
  static Contents read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Contents.NONE;
    }
    String text = new String(bytes, StandardCharsets.US_ASCII);
    List<Checkpoint> checkpoints = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    int lineNumber = 0;
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf('\n', start);
      boolean complete = end >= 0;
      String line = text.substring(start, complete ? end : text.length());
      lineNumber++;
      try {
        checkpoints.add(parse(line));
      } catch (IllegalArgumentException e) {
        unreadable.add(
            "line "
                + lineNumber
                + " of "
                + file.getFileName()
                + (complete ? " is not a checkpoint" : " is cut short"));
      }
      start = complete ? end + 1 : text.length();
    }
    return new Contents(
        checkpoints, unreadable, bytes.length == 0 || bytes[bytes.length - 1] == '\n');
  }

  /** Appends {@code checkpoints} to {@code file} and makes them durable. */
  static void append(Path file, List<Checkpoint> checkpoints) throws IOException {
    StringBuilder text = new StringBuilder();
    for (Checkpoint cp : checkpoints) {
      text.append(line(cp));
    }
    appendText(file, text.toString());
  }

  /**
   * Ends a last line cut short by a crash, so that the next checkpoint starts a line of its own.
   */
  static void endTornLine(Path file) throws IOException {
    if (!read(file).endsCleanly()) {
      appendText(file, "\n");
    }
  }

  private static void appendText(Path file, String text) throws IOException {
    boolean created = !Files.exists(file);
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
      ch.force(false);
    }
    if (created) {
      LogFile.DISK.syncDirectory(file.toAbsolutePath().getParent());
    }
  }
}
