package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * Decodes backend messages, given the type byte and the body that follows the length field. Framing
 * (reading the header and checking it with {@link Frames#checkBackend}) is the caller's job. The
 * upstream is treated as hostile (THREATS P14): every count and length is checked against the bytes
 * present, and any malformed input is a {@link ProtocolException}.
 */
public final class BackendMessages {
  private BackendMessages() {}

  /**
   * Decodes a backend message whose body is exactly the readable bytes of {@code body}. Type {@code
   * 'R'} is dispatched on the Int32 authentication code that starts the body.
   *
   * @throws ProtocolException for an unknown type or authentication code, or a malformed body
   */
  public static BackendMessage decode(byte type, ByteBuf body) {
    try {
      return switch (type) {
        case AuthenticationOk.TYPE -> Authentication.decode(body);
        case BackendKeyData.TYPE -> BackendKeyData.decode(reader(body, "BackendKeyData"));
        case BindComplete.TYPE -> empty(body, "BindComplete", new BindComplete());
        case CloseComplete.TYPE -> empty(body, "CloseComplete", new CloseComplete());
        case CommandComplete.TYPE -> CommandComplete.decode(reader(body, "CommandComplete"));
        case CopyData.TYPE -> CopyData.decode(reader(body, "CopyData"));
        case CopyDone.TYPE -> empty(body, "CopyDone", new CopyDone());
        case CopyInResponse.TYPE -> CopyInResponse.decode(reader(body, "CopyInResponse"));
        case CopyOutResponse.TYPE -> CopyOutResponse.decode(reader(body, "CopyOutResponse"));
        case CopyBothResponse.TYPE -> CopyBothResponse.decode(reader(body, "CopyBothResponse"));
        case DataRow.TYPE -> DataRow.decode(reader(body, "DataRow"));
        case EmptyQueryResponse.TYPE -> empty(body, "EmptyQueryResponse", new EmptyQueryResponse());
        case ErrorResponse.TYPE -> ErrorResponse.decode(reader(body, "ErrorResponse"));
        case FunctionCallResponse.TYPE ->
            FunctionCallResponse.decode(reader(body, "FunctionCallResponse"));
        case NegotiateProtocolVersion.TYPE ->
            NegotiateProtocolVersion.decode(reader(body, "NegotiateProtocolVersion"));
        case NoData.TYPE -> empty(body, "NoData", new NoData());
        case NoticeResponse.TYPE -> NoticeResponse.decode(reader(body, "NoticeResponse"));
        case NotificationResponse.TYPE ->
            NotificationResponse.decode(reader(body, "NotificationResponse"));
        case ParameterDescription.TYPE ->
            ParameterDescription.decode(reader(body, "ParameterDescription"));
        case ParameterStatus.TYPE -> ParameterStatus.decode(reader(body, "ParameterStatus"));
        case ParseComplete.TYPE -> empty(body, "ParseComplete", new ParseComplete());
        case PortalSuspended.TYPE -> empty(body, "PortalSuspended", new PortalSuspended());
        case ReadyForQuery.TYPE -> ReadyForQuery.decode(reader(body, "ReadyForQuery"));
        case RowDescription.TYPE -> RowDescription.decode(reader(body, "RowDescription"));
        default ->
            throw new ProtocolException(
                "invalid backend message type " + Values.describeType(type));
      };
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("invalid backend message: " + e.getMessage());
    }
  }

  private static MessageReader reader(ByteBuf body, String name) {
    return new MessageReader(body, name);
  }

  private static BackendMessage empty(ByteBuf body, String name, BackendMessage message) {
    reader(body, name).end();
    return message;
  }
}
