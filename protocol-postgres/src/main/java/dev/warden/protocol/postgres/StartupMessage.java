package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * StartupMessage (F): the first packet of a session, carrying the protocol version and the
 * connection parameters ({@code user}, {@code database}, {@code options}, GUCs, {@code _pq_.*}
 * protocol options). Untyped: Int32 length, Int32 version (major in the high 16 bits), then
 * NUL-terminated name/value pairs and a final NUL.
 *
 * @param majorVersion always 3; versions 1 and 2 were removed from PostgreSQL 14
 * @param minorVersion any minor: a server newer or older than the client answers with
 *     NegotiateProtocolVersion
 * @param parameters insertion-ordered and unmodifiable; names are unique and non-empty, and {@code
 *     user} is present
 */
public record StartupMessage(int majorVersion, int minorVersion, Map<String, String> parameters)
    implements FrontendMessage {
  /** Protocol 3.0 as it appears on the wire (196608). */
  public static final int PROTOCOL_3_0 = 3 << 16;

  /** Validates the version and parameters and takes an ordered, unmodifiable copy of them. */
  public StartupMessage {
    if (majorVersion != 3) {
      throw new IllegalArgumentException("unsupported protocol major version " + majorVersion);
    }
    if (minorVersion < 0 || minorVersion > 0xFFFF) {
      throw new IllegalArgumentException("protocol minor version out of range");
    }
    Objects.requireNonNull(parameters, "parameters");
    LinkedHashMap<String, String> copy = LinkedHashMap.newLinkedHashMap(parameters.size());
    for (Map.Entry<String, String> entry : parameters.entrySet()) {
      copy.put(
          Values.nonEmptyText(entry.getKey(), "parameter name"),
          Values.text(entry.getValue(), "parameter value"));
    }
    if (!copy.containsKey("user")) {
      throw new IllegalArgumentException("the user parameter is required");
    }
    parameters = Collections.unmodifiableSequencedMap(copy);
  }

  /** The {@code user} parameter. */
  public String user() {
    return parameters.get("user");
  }

  /** The version number as sent on the wire. */
  public int protocolVersion() {
    return (majorVersion << 16) | minorVersion;
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.beginUntyped(out);
    out.writeInt(protocolVersion());
    for (Map.Entry<String, String> entry : parameters.entrySet()) {
      MessageWriter.writeCString(out, entry.getKey());
      MessageWriter.writeCString(out, entry.getValue());
    }
    out.writeByte(0);
    MessageWriter.end(out, lengthIndex);
  }

  /** Names only: a startup value can be a token or a password placed there by mistake. */
  @Override
  public String toString() {
    return "StartupMessage[version="
        + majorVersion
        + "."
        + minorVersion
        + ", parameters="
        + parameters.keySet()
        + "]";
  }

  /**
   * Decodes the pairs that follow the version. PostgreSQL's ProcessStartupPacket requires the final
   * NUL to be the packet's last byte; duplicate names are refused here although the server would
   * keep the last one, so that the proxy and the server cannot disagree on the user.
   */
  static StartupMessage decode(int version, MessageReader body) {
    LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
    while (true) {
      if (body.remaining() == 0) {
        throw body.malformed("missing terminator");
      }
      String name = body.readCString("parameter name");
      if (name.isEmpty()) {
        break;
      }
      if (body.remaining() == 0) {
        throw body.malformed("a parameter has no value");
      }
      String value = body.readCString("parameter value");
      if (parameters.putIfAbsent(name, value) != null) {
        // The name is not quoted: it is client text and this message may be logged.
        throw body.malformed("duplicate parameter name");
      }
    }
    if (body.remaining() != 0) {
      throw body.malformed("empty parameter name or bytes after the terminator");
    }
    if (!parameters.containsKey("user")) {
      throw new ProtocolException("28000", "no PostgreSQL user name specified in startup packet");
    }
    return new StartupMessage(version >>> 16, version & 0xFFFF, parameters);
  }
}
