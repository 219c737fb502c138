package dev.warden.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One typed message as read off the wire, undecoded: its type byte and its body (the bytes after
 * the length field). Accessors decode just enough for assertions.
 *
 * @param type the type byte, e.g. {@code 'E'} for ErrorResponse
 * @param body the body bytes; a copy is kept and handed out
 */
public record WireMessage(byte type, byte[] body) {
  public WireMessage {
    body = body.clone();
  }

  @Override
  public byte[] body() {
    return body.clone();
  }

  /** The type as a character. */
  public char kind() {
    return (char) (type & 0xFF);
  }

  /** True for this type character. */
  public boolean is(char kind) {
    return kind() == kind;
  }

  /** The message exactly as it was on the wire: type, length, body. */
  public byte[] bytes() {
    return Packets.typed(kind(), body);
  }

  /** The Int32 at {@code offset} of the body. */
  public int int32(int offset) {
    return ((body[offset] & 0xFF) << 24)
        | ((body[offset + 1] & 0xFF) << 16)
        | ((body[offset + 2] & 0xFF) << 8)
        | (body[offset + 3] & 0xFF);
  }

  /**
   * The fields of an ErrorResponse or NoticeResponse by code, in wire order. A body that is not a
   * well-formed field list yields the fields before the damage.
   */
  public Map<Character, String> fields() {
    Map<Character, String> fields = new LinkedHashMap<>();
    int at = 0;
    while (at < body.length && body[at] != 0) {
      char code = (char) body[at];
      int end = at + 1;
      while (end < body.length && body[end] != 0) {
        end++;
      }
      fields.putIfAbsent(code, new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8));
      at = end + 1;
    }
    return fields;
  }

  /** Field {@code code} of an ErrorResponse or NoticeResponse, or the empty string. */
  public String field(char code) {
    return fields().getOrDefault(code, "");
  }

  /** The SQLSTATE of an ErrorResponse (field C). */
  public String sqlState() {
    return field('C');
  }

  /** The non-localized severity of an ErrorResponse (field V, else S). */
  public String severity() {
    String v = field('V');
    return v.isEmpty() ? field('S') : v;
  }

  /** The primary message of an ErrorResponse (field M). */
  public String message() {
    return field('M');
  }

  /** The body as UTF-8 text, for searching a canary in it. */
  public String text() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WireMessage m && m.type == type && Arrays.equals(m.body, body);
  }

  @Override
  public int hashCode() {
    return 31 * type + Arrays.hashCode(body);
  }

  @Override
  public String toString() {
    if (is('E') || is('N')) {
      return kind() + fields().toString();
    }
    return kind() + "[" + body.length + " bytes]";
  }
}
