package dev.warden.store.audit;

import dev.warden.core.audit.ChainedRecord;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * How records sit in a log file: {@code [u32 length][u32 crc32c][u64 seq][32-byte hash][payload]},
 * the CRC over everything after it. A frame cut short or failing its CRC at the end of the file is
 * a torn tail (a crash mid-write); anywhere else it is damage.
 */
final class Frames {
  static final int HEADER = 8;
  static final int FIXED = 8 + 32;

  /** A record larger than this is refused: a corrupt length must not make the reader allocate. */
  static final int MAX_PAYLOAD = 16 << 20;

  private Frames() {}

  static ByteBuffer encode(ChainedRecord r) {
    byte[] payload = r.payload();
    ByteBuffer body = ByteBuffer.allocate(FIXED + payload.length);
    body.putLong(r.seq()).put(r.hash()).put(payload).flip();
    CRC32C crc = new CRC32C();
    crc.update(body.duplicate());
    ByteBuffer frame = ByteBuffer.allocate(HEADER + body.remaining());
    frame.putInt(body.remaining()).putInt((int) crc.getValue()).put(body).flip();
    return frame;
  }

  /**
   * The records of one file's bytes, and where the good part ends.
   *
   * @param goodLength the length of the frames that decoded
   * @param problem empty when the file ends cleanly; otherwise why decoding stopped
   * @param atEnd true when the problem is a torn tail (nothing decodable follows it)
   */
  record Decoded(List<ChainedRecord> records, long goodLength, String problem, boolean atEnd) {}

  static Decoded decode(ByteBuffer file) {
    List<ChainedRecord> records = new ArrayList<>();
    while (file.hasRemaining()) {
      int at = file.position();
      if (file.remaining() < HEADER) {
        return new Decoded(records, at, "a frame header is cut short at byte " + at, true);
      }
      int length = file.getInt();
      int crc = file.getInt();
      if (length < FIXED || length > FIXED + MAX_PAYLOAD) {
        return new Decoded(
            records, at, "a frame at byte " + at + " has an impossible length " + length, false);
      }
      if (file.remaining() < length) {
        return new Decoded(records, at, "the frame at byte " + at + " is cut short", true);
      }
      ByteBuffer body = file.slice(file.position(), length);
      CRC32C check = new CRC32C();
      check.update(body.duplicate());
      if ((int) check.getValue() != crc) {
        boolean last = file.remaining() == length;
        return new Decoded(records, at, "the frame at byte " + at + " fails its checksum", last);
      }
      long seq = body.getLong();
      byte[] hash = new byte[32];
      body.get(hash);
      byte[] payload = new byte[body.remaining()];
      body.get(payload);
      records.add(new ChainedRecord(seq, payload, hash));
      file.position(file.position() + length);
    }
    return new Decoded(records, file.position(), "", false);
  }
}
