package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * CopyInResponse (B): the server is ready to receive COPY FROM STDIN data.
 *
 * @param overallFormat 0 for text (every column format is then 0) or 1 for binary
 * @param columnFormats the format of each column, at most 65 535
 */
public record CopyInResponse(byte overallFormat, List<Short> columnFormats)
    implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'G';

  /** Checks the overall format and copies the column formats. */
  public CopyInResponse {
    CopyFormats.checkOverall(overallFormat);
    columnFormats = Values.list(columnFormats, "columnFormats");
  }

  @Override
  public void encode(ByteBuf out) {
    CopyFormats.encode(out, TYPE, overallFormat, columnFormats);
  }

  static CopyInResponse decode(MessageReader body) {
    byte overallFormat = CopyFormats.readOverall(body);
    return new CopyInResponse(overallFormat, CopyFormats.readColumns(body));
  }
}
