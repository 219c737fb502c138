package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * NotificationResponse (B): a NOTIFY delivered to a session that LISTENs on the channel.
 *
 * @param processId the notifying backend's process id
 * @param channel the channel name
 * @param payload the payload; {@link #toString()} shows only its length, as it can carry data
 */
public record NotificationResponse(int processId, String channel, String payload)
    implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'A';

  /** Checks the channel and payload. */
  public NotificationResponse {
    Values.text(channel, "channel");
    Values.text(payload, "payload");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeInt(processId);
    MessageWriter.writeCString(out, channel);
    MessageWriter.writeCString(out, payload);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public String toString() {
    return "NotificationResponse[processId="
        + processId
        + ", channel="
        + channel
        + ", payload="
        + Values.describeText(payload)
        + "]";
  }

  static NotificationResponse decode(MessageReader body) {
    int processId = body.readInt32();
    String channel = body.readCString("channel");
    String payload = body.readCString("payload");
    body.end();
    return new NotificationResponse(processId, channel, payload);
  }
}
