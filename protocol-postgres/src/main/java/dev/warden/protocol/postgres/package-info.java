/**
 * The PostgreSQL frontend/backend wire protocol (version 3.x) as immutable records, one per message
 * and named as in the PostgreSQL documentation, chapter "Frontend/Backend Protocol".
 *
 * <p>Reading is split in two steps so that a proxy can forward the original bytes and decode only
 * what policy needs:
 *
 * <ol>
 *   <li>framing: {@link dev.warden.protocol.postgres.StartupPackets#packetLength} for the untyped
 *       startup-phase packets, or the type byte plus {@link
 *       dev.warden.protocol.postgres.Frames#checkFrontend}/{@link
 *       dev.warden.protocol.postgres.Frames#checkBackend} on the unsigned length for typed
 *       messages, both before anything is allocated for the body;
 *   <li>decoding: {@link dev.warden.protocol.postgres.StartupPackets#decode}, {@link
 *       dev.warden.protocol.postgres.FrontendMessages} or {@link
 *       dev.warden.protocol.postgres.BackendMessages} on exactly the body's bytes.
 * </ol>
 *
 * <p>Every failure on bad input is a {@link dev.warden.protocol.postgres.ProtocolException} with a
 * SQLSTATE. Decoders copy what they keep and only advance the reader index of the buffer they are
 * given; records never hold a {@code ByteBuf}. Writing is {@code message.encode(out)}.
 *
 * <p>This package depends on {@code netty-buffer} only and knows nothing of policy, audit or
 * identity.
 */
package dev.warden.protocol.postgres;
