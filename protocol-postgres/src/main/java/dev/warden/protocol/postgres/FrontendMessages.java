package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Decodes typed frontend messages, given the type byte and the body that follows the length field.
 * Framing (reading the header and checking it with {@link Frames#checkFrontend}) is the caller's
 * job, so that a proxy can forward the original bytes and decode only what policy needs.
 *
 * <p>Every decoder copies what it keeps, advances {@code body}'s reader index and nothing else, and
 * reports any malformed input as a {@link ProtocolException}.
 */
public final class FrontendMessages {
  private FrontendMessages() {}

  /**
   * Decodes a Query or Parse whose strings are in the session's client encoding {@code text} (other
   * types as {@link #decode(byte, ByteBuf)}).
   */
  public static FrontendMessage decode(byte type, ByteBuf body, Charset text) {
    if (text.equals(StandardCharsets.UTF_8)) {
      return decode(type, body);
    }
    try {
      return switch (type) {
        case Query.TYPE -> Query.decode(new MessageReader(body, "Query", text));
        case Parse.TYPE -> Parse.decode(new MessageReader(body, "Parse", text));
        default -> decode(type, body);
      };
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("invalid frontend message: " + e.getMessage());
    }
  }

  /**
   * Decodes a string field of message {@code messageName} (without its NUL) as the codec does, in
   * the session's client encoding {@code text}: for a proxy that reads a field without decoding the
   * whole message.
   *
   * @throws ProtocolException with SQLSTATE 22021 for invalid UTF-8
   */
  public static String decodeText(byte[] bytes, Charset text, String messageName, String what) {
    return MessageReader.decodeText(bytes, text, messageName, what);
  }

  /**
   * Decodes a typed frontend message whose body is exactly the readable bytes of {@code body}.
   *
   * @throws ProtocolException for an unknown type, a malformed body, or type {@code 'p'}: its
   *     meaning depends on the authentication exchange, so use {@link #decodePasswordMessage},
   *     {@link #decodeSASLInitialResponse} or {@link #decodeSASLResponse}
   */
  public static FrontendMessage decode(byte type, ByteBuf body) {
    try {
      return switch (type) {
        case Query.TYPE -> Query.decode(reader(body, "Query"));
        case Parse.TYPE -> Parse.decode(reader(body, "Parse"));
        case Bind.TYPE -> Bind.decode(reader(body, "Bind"));
        case Describe.TYPE -> Describe.decode(reader(body, "Describe"));
        case Execute.TYPE -> Execute.decode(reader(body, "Execute"));
        case Close.TYPE -> Close.decode(reader(body, "Close"));
        case Sync.TYPE -> empty(body, "Sync", new Sync());
        case Flush.TYPE -> empty(body, "Flush", new Flush());
        case Terminate.TYPE -> empty(body, "Terminate", new Terminate());
        case CopyDone.TYPE -> empty(body, "CopyDone", new CopyDone());
        case CopyData.TYPE -> CopyData.decode(reader(body, "CopyData"));
        case CopyFail.TYPE -> CopyFail.decode(reader(body, "CopyFail"));
        case FunctionCall.TYPE -> FunctionCall.decode(reader(body, "FunctionCall"));
        case PasswordMessage.TYPE ->
            throw new ProtocolException(
                "message type 'p' depends on the authentication state and cannot be decoded here");
        default ->
            throw new ProtocolException(
                "invalid frontend message type " + Values.describeType(type));
      };
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("invalid frontend message: " + e.getMessage());
    }
  }

  /** Decodes a {@code 'p'} body sent in answer to AuthenticationCleartextPassword or MD5. */
  public static PasswordMessage decodePasswordMessage(ByteBuf body) {
    try {
      return PasswordMessage.decode(reader(body, "PasswordMessage"));
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("invalid PasswordMessage: " + e.getMessage());
    }
  }

  /** Decodes a {@code 'p'} body sent in answer to AuthenticationSASL. */
  public static SASLInitialResponse decodeSASLInitialResponse(ByteBuf body) {
    try {
      return SASLInitialResponse.decode(reader(body, "SASLInitialResponse"));
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("invalid SASLInitialResponse: " + e.getMessage());
    }
  }

  /** Decodes a {@code 'p'} body sent in answer to AuthenticationSASLContinue. */
  public static SASLResponse decodeSASLResponse(ByteBuf body) {
    return SASLResponse.decode(reader(body, "SASLResponse"));
  }

  private static MessageReader reader(ByteBuf body, String name) {
    return new MessageReader(body, name);
  }

  private static FrontendMessage empty(ByteBuf body, String name, FrontendMessage message) {
    reader(body, name).end();
    return message;
  }
}
