package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * CopyOutResponse (B): COPY TO STDOUT data follows.
 *
 * @param overallFormat 0 for text (every column format is then 0) or 1 for binary
 * @param columnFormats the format of each column, at most 65 535
 */
public record CopyOutResponse(byte overallFormat, List<Short> columnFormats)
    implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'H';

  /** Checks the overall format and copies the column formats. */
  public CopyOutResponse {
    CopyFormats.checkOverall(overallFormat);
    columnFormats = Values.list(columnFormats, "columnFormats");
  }

  @Override
  public void encode(ByteBuf out) {
    CopyFormats.encode(out, TYPE, overallFormat, columnFormats);
  }

  static CopyOutResponse decode(MessageReader body) {
    byte overallFormat = CopyFormats.readOverall(body);
    return new CopyOutResponse(overallFormat, CopyFormats.readColumns(body));
  }
}
