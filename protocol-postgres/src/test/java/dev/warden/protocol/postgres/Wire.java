package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import java.util.function.Consumer;

/** Byte-level helpers for the codec tests. */
final class Wire {
  private Wire() {}

  /** Parses hex written with optional spaces and newlines, e.g. {@code "51 00000008 ..."}. */
  static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex.replaceAll("\\s+", ""));
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  static byte[] encode(Consumer<ByteBuf> encoder) {
    ByteBuf out = Unpooled.buffer();
    encoder.accept(out);
    return ByteBufUtil.getBytes(out);
  }

  static byte[] encode(FrontendMessage message) {
    return encode(message::encode);
  }

  static byte[] encode(BackendMessage message) {
    return encode(message::encode);
  }

  /** The body of a complete typed message: everything after the type byte and length. */
  static ByteBuf body(byte[] typedMessage) {
    return Unpooled.wrappedBuffer(typedMessage, 5, typedMessage.length - 5);
  }

  static FrontendMessage decodeFrontend(byte[] typedMessage) {
    ByteBuf body = body(typedMessage);
    FrontendMessage message = FrontendMessages.decode(typedMessage[0], body);
    if (body.isReadable()) {
      throw new AssertionError("decoder left bytes unread");
    }
    return message;
  }

  static BackendMessage decodeBackend(byte[] typedMessage) {
    ByteBuf body = body(typedMessage);
    BackendMessage message = BackendMessages.decode(typedMessage[0], body);
    if (body.isReadable()) {
      throw new AssertionError("decoder left bytes unread");
    }
    return message;
  }

  /** A complete typed message: type byte, length (counting itself) and body. */
  static byte[] frame(byte type, byte[] body) {
    ByteBuf out = Unpooled.buffer(5 + body.length);
    out.writeByte(type).writeInt(4 + body.length).writeBytes(body);
    return ByteBufUtil.getBytes(out);
  }

  /** {@code bytes} with the big-endian field of {@code width} bytes at {@code offset} replaced. */
  static byte[] withField(byte[] bytes, int offset, int width, long value) {
    byte[] copy = bytes.clone();
    for (int i = width - 1; i >= 0; i--) {
      copy[offset + i] = (byte) value;
      value >>= 8;
    }
    return copy;
  }
}
