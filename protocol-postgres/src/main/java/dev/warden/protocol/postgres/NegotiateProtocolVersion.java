package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * NegotiateProtocolVersion (B): the server does not support the requested minor version or some
 * {@code _pq_.} protocol options, and continues with what it does support.
 *
 * <p>The documentation calls the first Int32 the "newest minor protocol version", but PostgreSQL
 * sends a whole version code, major in the high 16 bits ({@code SendNegotiateProtocolVersion}
 * writes {@code PG_PROTOCOL_LATEST}, 196608 for 3.0), and libpq reads it that way. The decoder
 * therefore requires major 3 and keeps the minor; the encoder writes {@code 3 << 16 | minor}.
 *
 * @param newestMinor the newest minor version of protocol 3 the server supports, 0 to 65 535
 * @param unrecognizedOptions the protocol options the server did not recognize
 */
public record NegotiateProtocolVersion(int newestMinor, List<String> unrecognizedOptions)
    implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'v';

  /** Checks the minor version and copies the option names. */
  public NegotiateProtocolVersion {
    if (newestMinor < 0 || newestMinor > 0xFFFF) {
      throw new IllegalArgumentException("minor protocol version out of range");
    }
    unrecognizedOptions = List.copyOf(unrecognizedOptions);
    for (String option : unrecognizedOptions) {
      Values.text(option, "option");
    }
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeInt(StartupMessage.PROTOCOL_3_0 | newestMinor);
    out.writeInt(unrecognizedOptions.size());
    for (String option : unrecognizedOptions) {
      MessageWriter.writeCString(out, option);
    }
    MessageWriter.end(out, lengthIndex);
  }

  static NegotiateProtocolVersion decode(MessageReader body) {
    int version = body.readInt32();
    if (version >>> 16 != 3) {
      throw body.malformed("protocol version " + (version >>> 16) + "." + (version & 0xFFFF));
    }
    int count = body.readInt32();
    // Each name takes at least its terminating NUL; this bounds the list before it is sized.
    if (count < 0 || count > body.remaining()) {
      throw body.malformed("option count " + count + " exceeds the bytes remaining");
    }
    List<String> options = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      options.add(body.readCString("option name"));
    }
    body.end();
    return new NegotiateProtocolVersion(version & 0xFFFF, options);
  }
}
