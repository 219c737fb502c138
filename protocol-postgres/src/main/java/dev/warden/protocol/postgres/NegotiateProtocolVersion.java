package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * NegotiateProtocolVersion (B): the server does not support the requested minor version or some
 * {@code _pq_.} protocol options, and continues with what it does support.
 *
 * @param newestMinor the newest minor protocol version the server supports
 * @param unrecognizedOptions the protocol options the server did not recognize
 */
public record NegotiateProtocolVersion(int newestMinor, List<String> unrecognizedOptions)
    implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'v';

  /** Copies the option names. */
  public NegotiateProtocolVersion {
    unrecognizedOptions = List.copyOf(unrecognizedOptions);
    for (String option : unrecognizedOptions) {
      Values.text(option, "option");
    }
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeInt(newestMinor);
    out.writeInt(unrecognizedOptions.size());
    for (String option : unrecognizedOptions) {
      MessageWriter.writeCString(out, option);
    }
    MessageWriter.end(out, lengthIndex);
  }

  static NegotiateProtocolVersion decode(MessageReader body) {
    int newestMinor = body.readInt32();
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
    return new NegotiateProtocolVersion(newestMinor, options);
  }
}
