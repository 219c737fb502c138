package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * Frames and decodes the untyped packets a client may send before its session starts:
 * StartupMessage, SSLRequest, GSSENCRequest and CancelRequest. They share one layout, Int32 length
 * (counting itself) then an Int32 code, so they are framed apart from typed messages.
 */
public final class StartupPackets {
  /** SQLSTATE feature_not_supported, which PostgreSQL uses for an unsupported protocol. */
  private static final String FEATURE_NOT_SUPPORTED = "0A000";

  private static final int HEADER_BYTES = 8;

  private StartupPackets() {}

  /**
   * The validated length of the packet at {@code in.readerIndex()}, or -1 if fewer than 4 bytes are
   * readable. Does not move the reader index.
   *
   * @throws ProtocolException if the length is below 8 or above {@code limits.maxStartupBytes()}
   */
  public static int packetLength(ByteBuf in, Limits limits) {
    if (in.readableBytes() < 4) {
      return -1;
    }
    long length = in.getUnsignedInt(in.readerIndex());
    if (length < HEADER_BYTES) {
      throw new ProtocolException("invalid length of startup packet: " + length);
    }
    if (length > limits.maxStartupBytes()) {
      throw new ProtocolException(
          "startup packet of " + length + " bytes exceeds " + limits.maxStartupBytes());
    }
    return (int) length;
  }

  /**
   * Decodes one complete packet: exactly {@code packetLength(in, limits)} bytes starting at {@code
   * in.readerIndex()}, which advances past them. Bytes after the packet are left unread; whether
   * any may follow (none after SSLRequest, THREATS T01) is the caller's decision.
   *
   * @return a {@link StartupMessage}, {@link SSLRequest}, {@link GSSENCRequest} or {@link
   *     CancelRequest}
   * @throws ProtocolException if the packet is incomplete, malformed or of an unsupported version
   */
  public static FrontendMessage decode(ByteBuf in, Limits limits) {
    int length = packetLength(in, limits);
    if (length < 0 || in.readableBytes() < length) {
      throw new ProtocolException("incomplete startup packet");
    }
    ByteBuf packet = in.readSlice(length);
    packet.skipBytes(4);
    int code = packet.readInt();
    try {
      return switch (code) {
        case SSLRequest.CODE -> {
          requireLength(length, HEADER_BYTES, "SSLRequest");
          yield new SSLRequest();
        }
        case GSSENCRequest.CODE -> {
          requireLength(length, HEADER_BYTES, "GSSENCRequest");
          yield new GSSENCRequest();
        }
        case CancelRequest.CODE -> decodeCancelRequest(length, packet);
        default -> {
          int major = code >>> 16;
          int minor = code & 0xFFFF;
          if (major != 3) {
            throw new ProtocolException(
                FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + major + "." + minor);
          }
          yield StartupMessage.decode(code, new MessageReader(packet, "StartupMessage"));
        }
      };
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("invalid startup packet: " + e.getMessage());
    }
  }

  private static void requireLength(int length, int expected, String name) {
    if (length != expected) {
      throw new ProtocolException("invalid length of " + name + " packet: " + length);
    }
  }

  private static CancelRequest decodeCancelRequest(int length, ByteBuf packet) {
    long keyBytes = length - 12L;
    if (keyBytes < CancelRequest.MIN_KEY_BYTES || keyBytes > CancelRequest.MAX_KEY_BYTES) {
      throw new ProtocolException("invalid length of CancelRequest packet: " + length);
    }
    int processId = packet.readInt();
    byte[] key = new byte[(int) keyBytes];
    packet.readBytes(key);
    return new CancelRequest(processId, key);
  }
}
