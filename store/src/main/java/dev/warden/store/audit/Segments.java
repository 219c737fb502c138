package dev.warden.store.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The segment files of a log directory: {@code segment-<16-digit first seq>.log}, each starting
 * with a header that names the log, the segment's first sequence number and the chain hash before
 * it, so that the writer and readers can start from the last segment alone and the verifier can
 * tell a replaced or missing segment.
 *
 * <p>Header: {@code "WARDNLOG"}, {@code u16} version (1), {@code u16} length and the log id
 * (ASCII), {@code u64} first seq, the 32-byte previous hash, and a {@code u32} CRC32C of all before
 * it. Frames ({@link Frames}) follow.
 */
final class Segments {
  static final byte[] MAGIC = "WARDNLOG".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int MAX_LOG_ID = 64;
  static final int MAX_HEADER = MAGIC.length + 2 + 2 + MAX_LOG_ID + 8 + 32 + 4;

  /** What a log id may be: it names files in a witness directory and appears in every record. */
  static final Pattern LOG_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private static final Pattern NAME = Pattern.compile("segment-(\\d{16})\\.log");

  private Segments() {}

  /** A segment file and the first sequence number its name promises. */
  record Segment(Path path, long firstSeq) {}

  /**
   * A segment's header.
   *
   * @param previousHash the chain hash after record {@code firstSeq - 1} (the genesis hash for the
   *     first segment)
   */
  record Header(String logId, long firstSeq, byte[] previousHash) {
    Header {
      Objects.requireNonNull(logId, "logId");
      previousHash = previousHash.clone();
    }

    @Override
    public byte[] previousHash() {
      return previousHash.clone();
    }

    int length() {
      return MAGIC.length + 2 + 2 + logId.length() + 8 + 32 + 4;
    }

    ByteBuffer encode() {
      byte[] id = logId.getBytes(StandardCharsets.US_ASCII);
      ByteBuffer b = ByteBuffer.allocate(length());
      b.put(MAGIC).putShort((short) VERSION).putShort((short) id.length).put(id);
      b.putLong(firstSeq).put(previousHash);
      CRC32C crc = new CRC32C();
      crc.update(b.array(), 0, b.position());
      b.putInt((int) crc.getValue());
      return b.flip();
    }
  }

  /** The file name of the segment whose first record is {@code firstSeq}. */
  static String name(long firstSeq) {
    return String.format("segment-%016d.log", firstSeq);
  }

  /** Checks {@code logId} against {@link #LOG_ID}. */
  static String checkLogId(String logId) {
    if (!LOG_ID.matcher(logId).matches()) {
      throw new IllegalArgumentException(
          "an audit log id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or"
              + " digit; got '"
              + logId.replaceAll("[^\\x20-\\x7e]", "?")
              + "'");
    }
    return logId;
  }

  /** The segments of {@code directory}, oldest first; none if it does not exist. */
  static List<Segment> list(Path directory) throws IOException {
    List<Segment> segments = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "segment-*.log")) {
      for (Path file : files) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (m.matches()) {
          segments.add(new Segment(file, Long.parseLong(m.group(1))));
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    segments.sort(Comparator.comparingLong(Segment::firstSeq));
    return segments;
  }

  /** Why a header could not be read. */
  static final class HeaderException extends IOException {
    /** True when the file is shorter than a header: a segment whose creation was cut short. */
    final boolean cutShort;

    HeaderException(String message, boolean cutShort) {
      super(message);
      this.cutShort = cutShort;
    }
  }

  /** Reads and checks the header of {@code segment}. */
  static Header readHeader(FileChannel channel, Path segment) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(MAX_HEADER);
    long size = channel.size();
    while (b.hasRemaining() && channel.read(b, b.position()) > 0) {
      // positional reads until the header's longest size or the end of the file
    }
    b.flip();
    String where = "the header of " + segment.getFileName();
    if (b.remaining() < MAGIC.length + 4) {
      throw new HeaderException(where + " is cut short (" + size + " bytes)", true);
    }
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new HeaderException(where + " does not start with " + new String(MAGIC), false);
    }
    int version = Short.toUnsignedInt(b.getShort());
    if (version != VERSION) {
      throw new HeaderException(where + " has version " + version + ", expected " + VERSION, false);
    }
    int idLength = Short.toUnsignedInt(b.getShort());
    if (idLength == 0 || idLength > MAX_LOG_ID) {
      throw new HeaderException(where + " has an impossible log id length " + idLength, false);
    }
    if (b.remaining() < idLength + 8 + 32 + 4) {
      throw new HeaderException(where + " is cut short (" + size + " bytes)", true);
    }
    byte[] id = new byte[idLength];
    b.get(id);
    long firstSeq = b.getLong();
    byte[] previous = new byte[32];
    b.get(previous);
    int end = b.position();
    int crc = b.getInt();
    CRC32C check = new CRC32C();
    check.update(b.array(), 0, end);
    if ((int) check.getValue() != crc) {
      throw new HeaderException(where + " fails its checksum", false);
    }
    String logId = new String(id, StandardCharsets.US_ASCII);
    if (!LOG_ID.matcher(logId).matches()) {
      throw new HeaderException(where + " names an invalid log id", false);
    }
    if (firstSeq < 1) {
      throw new HeaderException(where + " has an impossible first record " + firstSeq, false);
    }
    return new Header(logId, firstSeq, previous);
  }

  /** Reads the header of the segment at {@code path}. */
  static Header readHeader(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path)) {
      return readHeader(channel, path);
    }
  }
}
