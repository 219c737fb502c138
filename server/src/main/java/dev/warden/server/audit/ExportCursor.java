package dev.warden.server.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How far a sink has received the trail: the log id and the last sequence number it acknowledged.
 * Kept in one small file per sink, replaced atomically and fsynced (file and directory) before the
 * sink moves on, so that after a crash the sink resumes at or before where it was: records may be
 * delivered twice, never skipped.
 *
 * @param logId the log the sequence number belongs to
 * @param seq the last record delivered, 0 for none
 */
record ExportCursor(String logId, long seq) {
  private static final Pattern FORMAT =
      Pattern.compile("warden-export-cursor 1\nlog ([A-Za-z0-9_.:-]{1,128})\nseq ([0-9]{1,19})\n");

  ExportCursor {
    if (seq < 0) {
      throw new IllegalArgumentException("seq must not be negative");
    }
  }

  /** The cursor file of the sink named {@code sinkName} under {@code directory}. */
  static Path file(Path directory, String sinkName) {
    String readable =
        sinkName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    if (readable.length() > 40) {
      readable = readable.substring(0, 40);
    }
    // The digest keeps names that differ only in characters dropped above apart.
    String digest;
    try {
      digest =
          HexFormat.of()
              .formatHex(
                  MessageDigest.getInstance("SHA-256")
                      .digest(sinkName.getBytes(StandardCharsets.UTF_8)),
                  0,
                  6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    return directory.resolve(readable + "-" + digest + ".cursor");
  }

  /**
   * Reads a cursor file.
   *
   * @return empty when the file does not exist (the sink starts from the beginning)
   * @throws IOException when it cannot be read or is not a cursor file
   */
  static Optional<ExportCursor> read(Path file) throws IOException {
    String text;
    try {
      if (Files.size(file) > 1024) {
        throw new IOException("the export cursor " + file + " is not a cursor file (too large)");
      }
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Matcher m = FORMAT.matcher(text);
    if (!m.matches()) {
      throw new IOException(
          "the export cursor "
              + file
              + " is damaged; delete it to deliver the whole trail again (duplicates follow)");
    }
    return Optional.of(new ExportCursor(m.group(1), Long.parseLong(m.group(2))));
  }

  /** Replaces {@code file} with this cursor, durably, before returning. */
  void write(Path file) throws IOException {
    Path directory = file.toAbsolutePath().getParent();
    Files.createDirectories(directory);
    byte[] content =
        ("warden-export-cursor 1\nlog " + logId + "\nseq " + seq + "\n")
            .getBytes(StandardCharsets.US_ASCII);
    Path temporary =
        Files.createTempFile(
            directory,
            "." + file.getFileName() + ".",
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      try {
        Files.move(
            temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
      try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
        dir.force(true);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
