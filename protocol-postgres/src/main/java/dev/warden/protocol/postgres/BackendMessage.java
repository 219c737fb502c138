package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * A message sent by the server (backend) to a client, as named in the PostgreSQL documentation,
 * chapter "Frontend/Backend Protocol", section "Message Formats". All of them are typed: a type
 * byte, an int32 length that counts itself, and a body.
 */
public sealed interface BackendMessage
    permits AuthenticationOk,
        AuthenticationKerberosV5,
        AuthenticationCleartextPassword,
        AuthenticationMD5Password,
        AuthenticationGSS,
        AuthenticationGSSContinue,
        AuthenticationSSPI,
        AuthenticationSASL,
        AuthenticationSASLContinue,
        AuthenticationSASLFinal,
        BackendKeyData,
        BindComplete,
        CloseComplete,
        CommandComplete,
        CopyData,
        CopyDone,
        CopyInResponse,
        CopyOutResponse,
        CopyBothResponse,
        DataRow,
        EmptyQueryResponse,
        ErrorOrNotice,
        FunctionCallResponse,
        NegotiateProtocolVersion,
        NoData,
        NotificationResponse,
        ParameterDescription,
        ParameterStatus,
        ParseComplete,
        PortalSuspended,
        ReadyForQuery,
        RowDescription {

  /** Writes the complete wire form: type byte, length and body. */
  void encode(ByteBuf out);
}
