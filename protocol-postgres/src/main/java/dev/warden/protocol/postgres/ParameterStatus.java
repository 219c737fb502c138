package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * ParameterStatus (B): the current value of a reported run-time parameter (e.g. {@code
 * client_encoding}, {@code standard_conforming_strings}, {@code server_version}).
 *
 * @param name the parameter name
 * @param value its value
 */
public record ParameterStatus(String name, String value) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'S';

  /** Checks the name and value. */
  public ParameterStatus {
    Values.text(name, "name");
    Values.text(value, "value");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, name);
    MessageWriter.writeCString(out, value);
    MessageWriter.end(out, lengthIndex);
  }

  static ParameterStatus decode(MessageReader body) {
    String name = body.readCString("parameter name");
    String value = body.readCString("parameter value");
    body.end();
    return new ParameterStatus(name, value);
  }
}
