package dev.warden.proxy.postgres;

import io.netty.buffer.ByteBuf;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The parameter values of a Bind, as far as its peeked head holds them, for the audit trail when
 * the configuration asks for them ({@code audit.parameters: recorded}). Bind is streamed, not
 * gathered (a parameter may be a gigabyte), so only what the first bytes hold is read: each value
 * is shortened to {@link #MAX_CHARS} characters, and values past the head are counted, not read.
 * Text-format values are decoded in the client encoding, binary ones shown as hex; NULL is {@code
 * null}. Never used for a decision: only for the record.
 */
final class BindParameters {
  /** The most characters kept of one value. */
  static final int MAX_CHARS = 100;

  private BindParameters() {}

  /**
   * Reads the values from {@code head}, positioned after the statement name. Malformed input yields
   * what was read up to it: the server, which reads the whole message, judges its validity.
   */
  static List<String> read(ByteBuf head, Charset text) {
    List<String> out = new ArrayList<>();
    if (head.readableBytes() < 2) {
      return out;
    }
    int formatCount = head.readUnsignedShort();
    if (head.readableBytes() < 2 * formatCount + 2) {
      out.add(notRead(-1));
      return out;
    }
    short[] formats = new short[formatCount];
    for (int i = 0; i < formatCount; i++) {
      formats[i] = head.readShort();
    }
    int count = head.readUnsignedShort();
    for (int i = 0; i < count; i++) {
      if (head.readableBytes() < 4) {
        out.add(notRead(count - i));
        return out;
      }
      int length = head.readInt();
      if (length < 0) {
        out.add(null);
        continue;
      }
      boolean binary = formatCount == 1 ? formats[0] == 1 : formatCount > i && formats[i] == 1;
      int available = Math.min(length, head.readableBytes());
      byte[] bytes = new byte[Math.min(available, binary ? MAX_CHARS / 2 : MAX_CHARS * 4)];
      head.readBytes(bytes);
      head.skipBytes(available - bytes.length);
      String value = binary ? "\\x" + HexFormat.of().formatHex(bytes) : new String(bytes, text);
      boolean cut = bytes.length < length;
      if (value.length() > MAX_CHARS) {
        value = value.substring(0, MAX_CHARS);
        cut = true;
      }
      out.add(cut ? value + "… (" + length + " bytes)" : value);
      if (available < length) {
        if (i + 1 < count) {
          out.add(notRead(count - i - 1));
        }
        return out;
      }
    }
    return out;
  }

  private static String notRead(int remaining) {
    return remaining < 0
        ? "(parameters past the first bytes of the message, not read)"
        : "(" + remaining + " more, past the first bytes of the message, not read)";
  }
}
