package dev.warden.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Builds PostgreSQL wire packets byte by byte, honest or lying, for hostile-input tests. Nothing
 * here checks what it builds: a test that wants a length of 2<sup>31</sup> or a startup packet
 * without its terminator gets exactly that.
 *
 * <p>Layouts follow the Frontend/Backend Protocol, "Message Formats": typed messages are a type
 * byte, an Int32 length that counts itself but not the type, then the body; startup-phase packets
 * have no type byte and their length counts itself.
 */
public final class Packets {
  /** The request code of SSLRequest (1234.5679). */
  public static final int SSL_REQUEST_CODE = 80877103;

  /** The request code of GSSENCRequest (1234.5680). */
  public static final int GSSENC_REQUEST_CODE = 80877104;

  /** The request code of CancelRequest (1234.5678). */
  public static final int CANCEL_REQUEST_CODE = 80877102;

  private Packets() {}

  /** A growable body: big-endian integers and NUL-terminated UTF-8 strings, as the protocol has. */
  public static final class Body {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Body int8(int value) {
      out.write(value);
      return this;
    }

    public Body int16(int value) {
      out.write(value >>> 8);
      out.write(value);
      return this;
    }

    public Body int32(long value) {
      out.write((int) (value >>> 24));
      out.write((int) (value >>> 16));
      out.write((int) (value >>> 8));
      out.write((int) value);
      return this;
    }

    public Body cstring(String value) {
      return bytes(value.getBytes(StandardCharsets.UTF_8)).int8(0);
    }

    public Body bytes(byte[] value) {
      out.writeBytes(value);
      return this;
    }

    public byte[] toByteArray() {
      return out.toByteArray();
    }
  }

  /** An empty body to fill. */
  public static Body body() {
    return new Body();
  }

  /** The chunks one after the other. */
  public static byte[] concat(byte[]... chunks) {
    Body b = new Body();
    for (byte[] chunk : chunks) {
      b.bytes(chunk);
    }
    return b.toByteArray();
  }

  /** A typed message with the correct length. */
  public static byte[] typed(char type, byte[] body) {
    return typedWithLength(type, 4L + body.length, body);
  }

  /** A typed message whose length field says {@code declaredLength}, whatever follows. */
  public static byte[] typedWithLength(char type, long declaredLength, byte[] body) {
    return body().int8(type).int32(declaredLength).bytes(body).toByteArray();
  }

  /** A startup-phase packet with the correct length: Int32 length, Int32 code, payload. */
  public static byte[] untyped(int code, byte[] payload) {
    return untypedWithLength(8L + payload.length, body().int32(code).bytes(payload).toByteArray());
  }

  /** A startup-phase packet whose length field says {@code declaredLength}, whatever follows. */
  public static byte[] untypedWithLength(long declaredLength, byte[] rest) {
    return body().int32(declaredLength).bytes(rest).toByteArray();
  }

  /** StartupMessage for protocol 3.0. */
  public static byte[] startup(Map<String, String> parameters) {
    return startup(3, 0, parameters);
  }

  /** StartupMessage for protocol {@code major.minor}, parameters in the map's order. */
  public static byte[] startup(int major, int minor, Map<String, String> parameters) {
    Body b = body();
    parameters.forEach((k, v) -> b.cstring(k).cstring(v));
    return untyped((major << 16) | minor, b.int8(0).toByteArray());
  }

  public static byte[] sslRequest() {
    return untyped(SSL_REQUEST_CODE, new byte[0]);
  }

  public static byte[] gssEncRequest() {
    return untyped(GSSENC_REQUEST_CODE, new byte[0]);
  }

  /** CancelRequest with a key of any length (3.0 uses 4 bytes, 3.2 up to 256). */
  public static byte[] cancelRequest(int processId, byte[] key) {
    return untyped(CANCEL_REQUEST_CODE, body().int32(processId).bytes(key).toByteArray());
  }

  // Frontend messages.

  public static byte[] query(String sql) {
    return typed('Q', body().cstring(sql).toByteArray());
  }

  /** Parse with no parameter types given. */
  public static byte[] parse(String statement, String sql) {
    return typed('P', body().cstring(statement).cstring(sql).int16(0).toByteArray());
  }

  /** Bind with no parameters, text results. */
  public static byte[] bind(String portal, String statement) {
    return typed(
        'B', body().cstring(portal).cstring(statement).int16(0).int16(0).int16(0).toByteArray());
  }

  public static byte[] describePortal(String portal) {
    return typed('D', body().int8('P').cstring(portal).toByteArray());
  }

  public static byte[] execute(String portal, int maxRows) {
    return typed('E', body().cstring(portal).int32(maxRows).toByteArray());
  }

  /** FunctionCall of the function with {@code oid}, text arguments, text result. */
  public static byte[] functionCall(int oid, String... textArguments) {
    Body b = body().int32(oid).int16(0).int16(textArguments.length);
    for (String argument : textArguments) {
      byte[] value = argument.getBytes(StandardCharsets.UTF_8);
      b.int32(value.length).bytes(value);
    }
    return typed('F', b.int16(0).toByteArray());
  }

  public static byte[] copyData(byte[] data) {
    return typed('d', data);
  }

  public static byte[] copyDone() {
    return typed('c', new byte[0]);
  }

  public static byte[] sync() {
    return typed('S', new byte[0]);
  }

  public static byte[] flush() {
    return typed('H', new byte[0]);
  }

  public static byte[] terminate() {
    return typed('X', new byte[0]);
  }

  public static byte[] saslInitialResponse(String mechanism, byte[] data) {
    return typed('p', body().cstring(mechanism).int32(data.length).bytes(data).toByteArray());
  }

  public static byte[] saslResponse(byte[] data) {
    return typed('p', data);
  }

  // Backend messages, for FakeUpstream.

  public static byte[] authenticationOk() {
    return typed('R', body().int32(0).toByteArray());
  }

  public static byte[] authenticationSasl(List<String> mechanisms) {
    Body b = body().int32(10);
    mechanisms.forEach(b::cstring);
    return typed('R', b.int8(0).toByteArray());
  }

  public static byte[] authenticationSaslContinue(byte[] data) {
    return typed('R', body().int32(11).bytes(data).toByteArray());
  }

  public static byte[] authenticationSaslFinal(byte[] data) {
    return typed('R', body().int32(12).bytes(data).toByteArray());
  }

  public static byte[] parameterStatus(String name, String value) {
    return typed('S', body().cstring(name).cstring(value).toByteArray());
  }

  public static byte[] backendKeyData(int processId, byte[] key) {
    return typed('K', body().int32(processId).bytes(key).toByteArray());
  }

  public static byte[] readyForQuery(char status) {
    return typed('Z', body().int8(status).toByteArray());
  }

  public static byte[] commandComplete(String tag) {
    return typed('C', body().cstring(tag).toByteArray());
  }

  /** ErrorResponse with exactly the fields given, in the map's order (any may be missing). */
  public static byte[] errorResponse(Map<Character, String> fields) {
    Body b = body();
    fields.forEach((code, value) -> b.int8(code).cstring(value));
    return typed('E', b.int8(0).toByteArray());
  }
}
