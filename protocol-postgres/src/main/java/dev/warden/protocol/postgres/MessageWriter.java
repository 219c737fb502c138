package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** Writes message frames: the length field is back-filled once the body has been written. */
final class MessageWriter {
  private MessageWriter() {}

  /** Writes the type byte and a placeholder length; returns the length field's index. */
  static int begin(ByteBuf out, byte type) {
    out.writeByte(type);
    return beginUntyped(out);
  }

  /** Writes a placeholder length for a startup-phase packet; returns its index. */
  static int beginUntyped(ByteBuf out) {
    int lengthIndex = out.writerIndex();
    out.writeInt(0);
    return lengthIndex;
  }

  static void end(ByteBuf out, int lengthIndex) {
    out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
  }

  /** Records validate their text (no NUL, no lone surrogate), so this UTF-8 form is exact. */
  static void writeCString(ByteBuf out, String value) {
    ByteBufUtil.writeUtf8(out, value);
    out.writeByte(0);
  }

  static void writeNullableValue(ByteBuf out, byte[] value) {
    if (value == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(value.length);
      out.writeBytes(value);
    }
  }
}
