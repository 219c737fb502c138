package dev.warden.sql.postgres;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the protobuf {@code ScanResult} of {@code pg_query_scan} by hand: four varint fields of
 * one repeated message do not warrant a protobuf dependency. Field numbers are pg_query.proto's.
 */
final class ScanProtobuf {
  private static final int WIRE_VARINT = 0;
  private static final int WIRE_FIXED64 = 1;
  private static final int WIRE_LENGTH = 2;
  private static final int WIRE_FIXED32 = 5;

  private final MemorySegment data;
  private long position;

  private ScanProtobuf(MemorySegment data) {
    this.data = data;
  }

  /** The tokens of a {@code ScanResult} message. */
  static List<PgQuery.Token> tokens(MemorySegment data) {
    ScanProtobuf reader = new ScanProtobuf(data);
    List<PgQuery.Token> tokens = new ArrayList<>();
    long end = data.byteSize();
    while (reader.position < end) {
      long key = reader.varint();
      int field = (int) (key >>> 3);
      int wire = (int) (key & 7);
      if (field == 2 && wire == WIRE_LENGTH) {
        long length = reader.varint();
        long tokenEnd = reader.position + length;
        reader.check(tokenEnd);
        tokens.add(reader.token(tokenEnd));
      } else {
        reader.skip(wire);
      }
    }
    return tokens;
  }

  private PgQuery.Token token(long end) {
    int start = 0;
    int stop = 0;
    int token = 0;
    int keywordKind = 0;
    while (position < end) {
      long key = varint();
      int field = (int) (key >>> 3);
      int wire = (int) (key & 7);
      if (wire != WIRE_VARINT) {
        skip(wire);
        continue;
      }
      int value = (int) varint();
      switch (field) {
        case 1 -> start = value;
        case 2 -> stop = value;
        case 4 -> token = value;
        case 5 -> keywordKind = value;
        default -> {
          // a field a later libpg_query may add: not needed
        }
      }
    }
    if (position != end) {
      throw malformed();
    }
    return new PgQuery.Token(start, stop, token, keywordKind);
  }

  private long varint() {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      check(position + 1);
      byte b = data.get(ValueLayout.JAVA_BYTE, position++);
      value |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw malformed();
  }

  private void skip(int wire) {
    switch (wire) {
      case WIRE_VARINT -> varint();
      case WIRE_FIXED64 -> advance(8);
      case WIRE_LENGTH -> advance(varint());
      case WIRE_FIXED32 -> advance(4);
      default -> throw malformed();
    }
  }

  private void advance(long bytes) {
    check(position + bytes);
    position += bytes;
  }

  private void check(long until) {
    if (until < position || until > data.byteSize()) {
      throw malformed();
    }
  }

  private static IllegalStateException malformed() {
    return new IllegalStateException("libpg_query returned a malformed scan result");
  }
}
