package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * A message sent by a client (frontend) to the server, as named in the PostgreSQL documentation,
 * chapter "Frontend/Backend Protocol", section "Message Formats". Startup-phase packets ({@link
 * StartupMessage}, {@link SSLRequest}, {@link GSSENCRequest}, {@link CancelRequest}) have no type
 * byte; all others do.
 */
public sealed interface FrontendMessage
    permits StartupMessage,
        SSLRequest,
        GSSENCRequest,
        CancelRequest,
        PasswordMessage,
        SASLInitialResponse,
        SASLResponse,
        Query,
        Parse,
        Bind,
        Describe,
        Execute,
        Close,
        Sync,
        Flush,
        CopyData,
        CopyDone,
        CopyFail,
        FunctionCall,
        Terminate {

  /** Writes the complete wire form: the type byte if the message has one, length and body. */
  void encode(ByteBuf out);
}
