package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * ParameterDescription (B): the parameter types of a described statement.
 *
 * @param typeOids one type OID per parameter, at most 65 535
 */
public record ParameterDescription(List<Integer> typeOids) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 't';

  /** Copies the type OIDs. */
  public ParameterDescription {
    typeOids = Values.list(typeOids, "typeOids");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeShort(typeOids.size());
    for (int oid : typeOids) {
      out.writeInt(oid);
    }
    MessageWriter.end(out, lengthIndex);
  }

  static ParameterDescription decode(MessageReader body) {
    int count = body.readCount("parameter", 4);
    List<Integer> oids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      oids.add(body.readInt32());
    }
    body.end();
    return new ParameterDescription(oids);
  }
}
