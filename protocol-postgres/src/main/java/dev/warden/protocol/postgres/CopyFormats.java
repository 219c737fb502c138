package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/** The body shared by CopyInResponse, CopyOutResponse and CopyBothResponse. */
final class CopyFormats {
  private CopyFormats() {}

  static void checkOverall(byte overallFormat) {
    if (overallFormat != 0 && overallFormat != 1) {
      throw new IllegalArgumentException("overall COPY format must be 0 or 1");
    }
  }

  static byte readOverall(MessageReader body) {
    byte overallFormat = body.readByte();
    if (overallFormat != 0 && overallFormat != 1) {
      throw body.malformed("overall COPY format " + overallFormat);
    }
    return overallFormat;
  }

  static List<Short> readColumns(MessageReader body) {
    List<Short> formats = Bind.readFormats(body, "column format");
    body.end();
    return formats;
  }

  static void encode(ByteBuf out, byte type, byte overallFormat, List<Short> columnFormats) {
    int lengthIndex = MessageWriter.begin(out, type);
    out.writeByte(overallFormat);
    out.writeShort(columnFormats.size());
    for (short format : columnFormats) {
      out.writeShort(format);
    }
    MessageWriter.end(out, lengthIndex);
  }
}
