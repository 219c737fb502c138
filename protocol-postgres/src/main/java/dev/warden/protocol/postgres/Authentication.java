package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * The authentication request family: every one is type {@code 'R'} and is told apart by the Int32
 * code that starts its body.
 */
final class Authentication {
  static final int OK = 0;
  static final int KERBEROS_V5 = 2;
  static final int CLEARTEXT_PASSWORD = 3;
  static final int MD5_PASSWORD = 5;
  static final int GSS = 7;
  static final int GSS_CONTINUE = 8;
  static final int SSPI = 9;
  static final int SASL = 10;
  static final int SASL_CONTINUE = 11;
  static final int SASL_FINAL = 12;

  private Authentication() {}

  /** Writes type, length and code for a request whose payload is {@code payloadBytes} long. */
  static void writeHeader(ByteBuf out, int code, int payloadBytes) {
    out.writeByte(AuthenticationOk.TYPE);
    out.writeInt(8 + payloadBytes);
    out.writeInt(code);
  }

  static void writeWithData(ByteBuf out, int code, byte[] data) {
    writeHeader(out, code, data.length);
    out.writeBytes(data);
  }

  static BackendMessage decode(ByteBuf body) {
    MessageReader reader = new MessageReader(body, "Authentication");
    int code = reader.readInt32();
    return switch (code) {
      case OK -> empty(reader, new AuthenticationOk());
      case KERBEROS_V5 -> empty(reader, new AuthenticationKerberosV5());
      case CLEARTEXT_PASSWORD -> empty(reader, new AuthenticationCleartextPassword());
      case MD5_PASSWORD -> {
        byte[] salt = reader.readBytes(AuthenticationMD5Password.SALT_BYTES, "salt");
        reader.end();
        yield new AuthenticationMD5Password(salt);
      }
      case GSS -> empty(reader, new AuthenticationGSS());
      case GSS_CONTINUE -> new AuthenticationGSSContinue(reader.readRest());
      case SSPI -> empty(reader, new AuthenticationSSPI());
      case SASL -> new AuthenticationSASL(readMechanisms(reader));
      case SASL_CONTINUE -> new AuthenticationSASLContinue(reader.readRest());
      case SASL_FINAL -> new AuthenticationSASLFinal(reader.readRest());
      default -> throw reader.malformed("unsupported authentication request code " + code);
    };
  }

  private static BackendMessage empty(MessageReader reader, BackendMessage message) {
    reader.end();
    return message;
  }

  /** Mechanism names, each NUL-terminated, the list closed by an empty name (a lone NUL). */
  private static List<String> readMechanisms(MessageReader reader) {
    List<String> mechanisms = new ArrayList<>();
    while (true) {
      if (reader.remaining() == 0) {
        throw reader.malformed("SASL mechanism list has no terminator");
      }
      String mechanism = reader.readCString("SASL mechanism");
      if (mechanism.isEmpty()) {
        reader.end();
        return mechanisms;
      }
      mechanisms.add(mechanism);
    }
  }
}
