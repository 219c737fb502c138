package dev.warden.protocol.postgres;

/**
 * Validates the header of a typed message (type byte and Int32 length, which counts itself but not
 * the type byte) before the body is read or anything is allocated for it (THREATS P01). Lengths are
 * passed as unsigned values in a {@code long}, as read with {@code getUnsignedInt}, so a length of
 * 2<sup>31</sup> or more can never turn negative on the way.
 */
public final class Frames {
  private static final long HEADER_ONLY = 4;

  private Frames() {}

  /**
   * Validates a frontend message header received after the startup phase: the type must be one a
   * client sends, the length at least 4, exactly 4 for Sync, Flush, Terminate and CopyDone, and at
   * most {@code limits.maxMessageBytes()}.
   *
   * @throws ProtocolException if any of these does not hold
   */
  public static void checkFrontend(byte type, long length, Limits limits) {
    switch (type) {
      case Sync.TYPE, Flush.TYPE, Terminate.TYPE, CopyDone.TYPE ->
          checkExact(type, length, HEADER_ONLY, "frontend", limits);
      case Query.TYPE,
          Parse.TYPE,
          Bind.TYPE,
          Describe.TYPE,
          Execute.TYPE,
          Close.TYPE,
          CopyData.TYPE,
          CopyFail.TYPE,
          FunctionCall.TYPE,
          PasswordMessage.TYPE ->
          checkRange(type, length, HEADER_ONLY, limits.maxMessageBytes(), "frontend");
      default ->
          throw new ProtocolException("invalid frontend message type " + Values.describeType(type));
    }
  }

  /**
   * Validates a backend message header: the type must be one a server sends, the length at least 4,
   * exactly 5 for ReadyForQuery, exactly 4 for ParseComplete, BindComplete, CloseComplete, NoData,
   * EmptyQueryResponse, PortalSuspended and CopyDone, 12 to 264 for BackendKeyData (a 4 to 256 byte
   * key), and at most {@code limits.maxMessageBytes()}.
   *
   * @throws ProtocolException if any of these does not hold
   */
  public static void checkBackend(byte type, long length, Limits limits) {
    switch (type) {
      case ParseComplete.TYPE,
          BindComplete.TYPE,
          CloseComplete.TYPE,
          NoData.TYPE,
          EmptyQueryResponse.TYPE,
          PortalSuspended.TYPE,
          CopyDone.TYPE ->
          checkExact(type, length, HEADER_ONLY, "backend", limits);
      case ReadyForQuery.TYPE -> checkExact(type, length, HEADER_ONLY + 1, "backend", limits);
      case BackendKeyData.TYPE ->
          checkRange(
              type,
              length,
              8L + BackendKeyData.MIN_KEY_BYTES,
              Math.min(8L + BackendKeyData.MAX_KEY_BYTES, limits.maxMessageBytes()),
              "backend");
      case AuthenticationOk.TYPE,
          CommandComplete.TYPE,
          CopyData.TYPE,
          CopyInResponse.TYPE,
          CopyOutResponse.TYPE,
          CopyBothResponse.TYPE,
          DataRow.TYPE,
          ErrorResponse.TYPE,
          FunctionCallResponse.TYPE,
          NegotiateProtocolVersion.TYPE,
          NoticeResponse.TYPE,
          NotificationResponse.TYPE,
          ParameterDescription.TYPE,
          ParameterStatus.TYPE,
          RowDescription.TYPE ->
          checkRange(type, length, HEADER_ONLY, limits.maxMessageBytes(), "backend");
      default ->
          throw new ProtocolException("invalid backend message type " + Values.describeType(type));
    }
  }

  private static void checkExact(
      byte type, long length, long expected, String direction, Limits limits) {
    checkRange(type, length, expected, Math.min(expected, limits.maxMessageBytes()), direction);
  }

  private static void checkRange(byte type, long length, long min, long max, String direction) {
    if (length < min || length > max) {
      throw new ProtocolException(
          "invalid length "
              + length
              + " for "
              + direction
              + " message type "
              + Values.describeType(type));
    }
  }
}
