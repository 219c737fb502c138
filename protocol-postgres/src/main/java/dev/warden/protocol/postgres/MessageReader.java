package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads the body of one message, checking every count and length against the bytes that remain
 * before anything is allocated (THREATS P01, P14). All failures are {@link ProtocolException}s that
 * name the message but never quote its bytes.
 */
final class MessageReader {
  /** SQLSTATE character_not_in_repertoire, which PostgreSQL raises for invalid UTF-8 input. */
  private static final String INVALID_TEXT = "22021";

  private final ByteBuf in;
  private final String messageName;

  MessageReader(ByteBuf in, String messageName) {
    this(in, messageName, StandardCharsets.UTF_8);
  }

  /**
   * A reader whose strings are in {@code text}, the session's client encoding. UTF-8 is decoded
   * strictly; another encoding is decoded as far as it is valid and byte for byte (ISO-8859-1)
   * otherwise, since the server will refuse such text itself.
   */
  MessageReader(ByteBuf in, String messageName, Charset text) {
    this.in = in;
    this.messageName = messageName;
    this.text = text;
  }

  private final Charset text;

  int remaining() {
    return in.readableBytes();
  }

  ProtocolException malformed(String detail) {
    return new ProtocolException("malformed " + messageName + " message: " + detail);
  }

  private void require(long bytes, String what) {
    if (bytes < 0 || bytes > in.readableBytes()) {
      throw malformed(what + " runs past the end of the message");
    }
  }

  byte readByte() {
    require(1, "a byte field");
    return in.readByte();
  }

  short readInt16() {
    require(2, "an int16 field");
    return in.readShort();
  }

  int readInt32() {
    require(4, "an int32 field");
    return in.readInt();
  }

  /**
   * Reads an Int16 element count. PostgreSQL reads these counts as unsigned ({@code
   * pq_getmsgint(msg, 2)}), so up to 65 535 elements are legal; each element then needs at least
   * {@code minBytesPerElement}, which lets a lying count fail before a list is sized from it.
   */
  int readCount(String what, int minBytesPerElement) {
    int count = readInt16() & 0xFFFF;
    if ((long) count * minBytesPerElement > in.readableBytes()) {
      throw malformed(what + " count " + count + " exceeds the bytes remaining");
    }
    return count;
  }

  byte[] readBytes(long length, String what) {
    require(length, what);
    byte[] bytes = new byte[(int) length];
    in.readBytes(bytes);
    return bytes;
  }

  byte[] readRest() {
    return readBytes(in.readableBytes(), "the payload");
  }

  /** An Int32 length followed by that many bytes; length -1 stands for SQL NULL. */
  byte[] readNullableValue(String what) {
    int length = readInt32();
    if (length == -1) {
      return null;
    }
    if (length < -1) {
      throw malformed(what + " has negative length " + length);
    }
    return readBytes(length, what);
  }

  /** The raw bytes of a NUL-terminated string, without the terminator. */
  byte[] readCStringBytes(String what) {
    int length = in.bytesBefore((byte) 0);
    if (length < 0) {
      throw malformed(what + " is not NUL-terminated");
    }
    byte[] bytes = readBytes(length, what);
    in.skipBytes(1);
    return bytes;
  }

  /** A NUL-terminated string, decoded as strict UTF-8. */
  String readCString(String what) {
    return decodeText(readCStringBytes(what), text, messageName, what);
  }

  /**
   * Decodes a string of a message in the session's client encoding {@code text}: UTF-8 strictly
   * (see {@link #decodeUtf8}); another encoding as far as it is valid, and byte for byte
   * (ISO-8859-1) otherwise, since the server will refuse such text itself.
   */
  static String decodeText(byte[] bytes, Charset text, String messageName, String what) {
    if (text.equals(StandardCharsets.UTF_8)) {
      return decodeUtf8(bytes, messageName, what);
    }
    try {
      return text.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return new String(bytes, StandardCharsets.ISO_8859_1);
    }
  }

  /** Fails if bytes remain after a complete body: trailing bytes could hide a second message. */
  void end() {
    if (in.isReadable()) {
      throw malformed(in.readableBytes() + " unexpected trailing byte(s)");
    }
  }

  /**
   * Decodes strictly: overlong forms, surrogates and truncated sequences are refused instead of
   * being replaced, so what the proxy inspects is exactly what the server will interpret.
   */
  static String decodeUtf8(byte[] bytes, String messageName, String what) {
    boolean ascii = true;
    for (byte b : bytes) {
      if (b < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return new String(bytes, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException(
          INVALID_TEXT, "invalid UTF-8 in " + what + " of " + messageName + " message");
    }
  }
}
