package dev.warden.store.audit;

import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * How records sit in a segment after its header: {@code [u32 length][u32 crc32c][u64 seq][32-byte
 * hash][payload]}, the CRC over everything after it. A frame cut short by the end of the file is a
 * torn tail (a crash mid-write, or a write still in progress); a frame with an impossible length or
 * a failing CRC is damage, except that the writer, on opening, treats a failing CRC in the very
 * last frame as torn too (a power loss can leave a frame's length on disk without all its bytes).
 */
final class Frames {
  static final int HEADER = 8;
  static final int FIXED = 8 + 32;

  /** A record larger than this is refused: a corrupt length must not make the reader allocate. */
  static final int MAX_PAYLOAD = 16 << 20;

  private Frames() {}

  static ByteBuffer encode(ChainedRecord r) {
    byte[] payload = r.payload();
    if (payload.length > MAX_PAYLOAD) {
      throw new IllegalArgumentException(
          "an audit record of " + payload.length + " bytes is over the limit of " + MAX_PAYLOAD);
    }
    ByteBuffer frame = ByteBuffer.allocate(HEADER + FIXED + payload.length);
    frame.putInt(FIXED + payload.length).putInt(0).putLong(r.seq()).put(r.hash()).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(frame.array(), HEADER, FIXED + payload.length);
    frame.putInt(4, (int) crc.getValue());
    return frame.flip();
  }

  /** What {@link Reader#next} found. */
  sealed interface Next {}

  /** A record, ending at byte {@code end} of the file. */
  record Frame(ChainedRecord record, long end) implements Next {}

  /** The file ends cleanly here. */
  record End(long at) implements Next {}

  /** The file ends inside a frame that starts at {@code at}. */
  record CutShort(long at, String reason) implements Next {}

  /**
   * The frame at {@code at} is damaged.
   *
   * @param last true when it is the file's last frame (its length reaches exactly the end)
   */
  record Damaged(long at, String reason, boolean last) implements Next {}

  /**
   * Reads frames one after the other from a channel, through a buffer, up to a given end (the
   * file's size when the reader started, so that bytes being appended meanwhile are not half-read).
   */
  static final class Reader {
    private final FileChannel channel;
    private ByteBuffer buffer = ByteBuffer.allocate(256 << 10).flip();
    private long bufferStart;
    private long position;
    private long end;

    Reader(FileChannel channel, long start, long end) {
      this.channel = channel;
      this.position = start;
      this.bufferStart = start;
      this.end = end;
    }

    /** Reads on up to {@code end}, when the file has grown. */
    void extendTo(long newEnd) {
      end = Math.max(end, newEnd);
    }

    long position() {
      return position;
    }

    Next next() throws IOException {
      long at = position;
      if (at >= end) {
        return new End(at);
      }
      if (end - at < HEADER) {
        return new CutShort(at, "a frame header at byte " + at + " is cut short");
      }
      ByteBuffer head = bytes(at, HEADER);
      int length = head.getInt();
      int crc = head.getInt();
      if (length < FIXED || length > FIXED + MAX_PAYLOAD) {
        return new Damaged(
            at, "the frame at byte " + at + " has an impossible length " + length, false);
      }
      if (end - at - HEADER < length) {
        return new CutShort(at, "the frame at byte " + at + " is cut short");
      }
      ByteBuffer body = bytes(at + HEADER, length);
      CRC32C check = new CRC32C();
      check.update(body.duplicate());
      if ((int) check.getValue() != crc) {
        boolean last = at + HEADER + length == end;
        return new Damaged(at, "the frame at byte " + at + " fails its checksum", last);
      }
      long seq = body.getLong();
      byte[] hash = new byte[32];
      body.get(hash);
      byte[] payload = new byte[body.remaining()];
      body.get(payload);
      position = at + HEADER + length;
      return new Frame(new ChainedRecord(seq, payload, hash), position);
    }

    /** {@code length} bytes at file offset {@code at}, from the buffer, refilled as needed. */
    private ByteBuffer bytes(long at, int length) throws IOException {
      if (at < bufferStart || at + length > bufferStart + buffer.limit()) {
        if (length > buffer.capacity()) {
          buffer = ByteBuffer.allocate(length);
        }
        buffer.clear();
        bufferStart = at;
        long want = Math.min(buffer.capacity(), end - at);
        buffer.limit((int) want);
        while (buffer.hasRemaining()) {
          int n = channel.read(buffer, bufferStart + buffer.position());
          if (n < 0) {
            throw new IOException(
                "the file ended at byte "
                    + (bufferStart + buffer.position())
                    + " while reading up to byte "
                    + (bufferStart + want)
                    + ": it was cut while being read");
          }
        }
        buffer.flip();
      }
      return buffer.slice((int) (at - bufferStart), length);
    }
  }
}
