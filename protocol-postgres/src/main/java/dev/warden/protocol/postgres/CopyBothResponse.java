package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * CopyBothResponse (B): a bidirectional copy (streaming replication) starts.
 *
 * @param overallFormat 0 for text (every column format is then 0) or 1 for binary
 * @param columnFormats the format of each column, at most 65 535
 */
public record CopyBothResponse(byte overallFormat, List<Short> columnFormats)
    implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'W';

  /** Checks the overall format and copies the column formats. */
  public CopyBothResponse {
    CopyFormats.checkOverall(overallFormat);
    columnFormats = Values.list(columnFormats, "columnFormats");
  }

  @Override
  public void encode(ByteBuf out) {
    CopyFormats.encode(out, TYPE, overallFormat, columnFormats);
  }

  static CopyBothResponse decode(MessageReader body) {
    byte overallFormat = CopyFormats.readOverall(body);
    return new CopyBothResponse(overallFormat, CopyFormats.readColumns(body));
  }
}
