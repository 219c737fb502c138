package dev.warden.core.identity;

import static dev.warden.core.identity.AuthenticationFailure.Reason.BAD_PASSWORD;
import static dev.warden.core.identity.AuthenticationFailure.Reason.MALFORMED_MESSAGE;
import static dev.warden.core.identity.AuthenticationFailure.Reason.UNKNOWN_USER;
import static dev.warden.core.identity.AuthenticationFailure.Reason.UNSUPPORTED;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677), used when clients authenticate to Warden
 * with a local user's password. Protocol-neutral: it consumes and produces the SASL payloads, and
 * the PostgreSQL (or MySQL) engine carries them in its own messages.
 *
 * <p>An unknown user is indistinguishable from a wrong password (THREATS AU10): the exchange runs
 * against a mock credential whose salt is HMAC-SHA-256(mockKey, username), so the
 * server-first-message has the same shape and is stable across attempts, the final check does the
 * same work, and both fail only in {@link Exchange#clientFinal}. The {@link
 * AuthenticationFailure.Reason} tells Warden's audit which case it was; clients see one generic
 * error.
 *
 * <p>Channel binding (SCRAM-SHA-256-PLUS) is not offered yet, so a client that requires it ({@code
 * p=}) is refused and one that merely supports it ({@code y}) is accepted. Thread-safe; an {@link
 * Exchange} is not, and belongs to one connection.
 */
public final class ScramServer {
  /** The SASL mechanism name to advertise. */
  public static final String MECHANISM = "SCRAM-SHA-256";

  /** Longest client message accepted; a real one is about 100 bytes. */
  static final int MAX_MESSAGE_BYTES = 1024;

  private final ScramAccounts accounts;
  private final byte[] mockKey;
  private final Supplier<String> serverNonces;

  public ScramServer(UserDirectory users, Secret mockKey, SecureRandom random) {
    this(ScramAccounts.of(users), mockKey, random);
  }

  /** Logins for local users and service tokens alike. */
  public ScramServer(ScramAccounts accounts, Secret mockKey, SecureRandom random) {
    this(accounts, mockKey, ScramSyntax.randomNonces(Objects.requireNonNull(random, "random")));
  }

  /** With a chosen nonce source, so that tests can replay RFC 7677's exchange byte for byte. */
  ScramServer(UserDirectory users, Secret mockKey, Supplier<String> serverNonces) {
    this(ScramAccounts.of(users), mockKey, serverNonces);
  }

  private ScramServer(ScramAccounts accounts, Secret mockKey, Supplier<String> serverNonces) {
    this.accounts = Objects.requireNonNull(accounts, "accounts");
    Objects.requireNonNull(mockKey, "mockKey");
    if (mockKey.isEmpty()) {
      throw new IllegalArgumentException("mockKey must not be empty");
    }
    this.mockKey = mockKey.bytes();
    this.serverNonces = Objects.requireNonNull(serverNonces, "serverNonces");
  }

  /**
   * Starts one login attempt for {@code username}, the name from the startup or login packet. It
   * looks the user up in the directory, so it blocks for as long as the directory does; call it off
   * the event loop if the directory is slow. Exceptions from the directory propagate.
   */
  public Exchange begin(String username) {
    Objects.requireNonNull(username, "username");
    Optional<ScramAccount> user = accounts.find(username);
    // Derived for known users too, so that begin() costs the same either way.
    ScramCredential mock = mockCredential(username);
    return user.map(u -> new Exchange(u, u.credential())).orElseGet(() -> new Exchange(null, mock));
  }

  /**
   * A credential nobody can match, stable per name. Its keys come from the mock key rather than
   * from Hi(), because a real exchange never runs Hi() either: the server's work in clientFinal is
   * two HMACs and a hash in both cases.
   */
  private ScramCredential mockCredential(String username) {
    byte[] name = ScramSyntax.utf8(username);
    byte[] salt = Arrays.copyOf(ScramKeys.hmac(mockKey, name), ScramCredentials.SALT_LENGTH);
    byte[] storedKey = ScramKeys.hmac(mockKey, concat("mock stored key\0", name));
    byte[] serverKey = ScramKeys.hmac(mockKey, concat("mock server key\0", name));
    return new ScramCredential(salt, ScramCredentials.DEFAULT_ITERATIONS, storedKey, serverKey);
  }

  private static byte[] concat(String label, byte[] name) {
    byte[] l = ScramSyntax.utf8(label);
    byte[] out = Arrays.copyOf(l, l.length + name.length);
    System.arraycopy(name, 0, out, l.length, name.length);
    return out;
  }

  /** A verified login: the identity and the server-final-message to send to the client. */
  public record Success(Identity identity, byte[] serverFinalMessage) {
    public Success {
      Objects.requireNonNull(identity, "identity");
      serverFinalMessage = serverFinalMessage.clone();
    }

    @Override
    public byte[] serverFinalMessage() {
      return serverFinalMessage.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Success s
          && identity.equals(s.identity)
          && Arrays.equals(serverFinalMessage, s.serverFinalMessage);
    }

    @Override
    public int hashCode() {
      return identity.hashCode();
    }

    @Override
    public String toString() {
      return "Success[identity=" + identity + "]";
    }
  }

  /** One login attempt: single use, confined to one connection. */
  public final class Exchange {
    private enum State {
      AWAITING_CLIENT_FIRST,
      AWAITING_CLIENT_FINAL,
      DONE
    }

    private final ScramAccount user;
    private final ScramCredential credential;
    private State state = State.AWAITING_CLIENT_FIRST;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    private Exchange(ScramAccount user, ScramCredential credential) {
      this.user = user;
      this.credential = credential;
    }

    /**
     * True when the name belongs to an account (a local user or service token). A proxy that also
     * accepts tokens from an identity provider asks for one instead of running SCRAM when it is
     * false.
     */
    public boolean knowsAccount() {
      return user != null;
    }

    /** client-first-message bytes (UTF-8) → server-first-message bytes. */
    public byte[] clientFirst(byte[] clientFirstMessage) throws AuthenticationFailure {
      if (state != State.AWAITING_CLIENT_FIRST) {
        state = State.DONE;
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "client-first-message out of sequence");
      }
      state = State.DONE;
      String message =
          ScramSyntax.text(
              clientFirstMessage, MAX_MESSAGE_BYTES, MALFORMED_MESSAGE, "client-first-message");
      List<String> fields = ScramSyntax.fields(message);
      if (fields.size() < 4) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "client-first-message is incomplete");
      }
      String cbindFlag = fields.get(0);
      if (cbindFlag.startsWith("p=")) {
        throw new AuthenticationFailure(UNSUPPORTED, "client requires channel binding");
      }
      // RFC 5802 §6: "y" means the client could bind but believes the server cannot. That is
      // true while SCRAM-SHA-256-PLUS is not advertised; once it is, "y" signals a downgrade.
      if (!cbindFlag.equals("n") && !cbindFlag.equals("y")) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "bad gs2-cbind-flag");
      }
      if (!fields.get(1).isEmpty()) {
        throw new AuthenticationFailure(
            fields.get(1).startsWith("a=") ? UNSUPPORTED : MALFORMED_MESSAGE,
            "authorization identity is not supported");
      }
      if (fields.get(2).startsWith("m=")) {
        throw new AuthenticationFailure(UNSUPPORTED, "mandatory extension");
      }
      // The login name comes from begin(); PostgreSQL clients send n= empty or '*' here.
      String saslName =
          ScramSyntax.attribute(fields.get(2), 'n', MALFORMED_MESSAGE, "client-first-message");
      if (!ScramSyntax.validSaslName(saslName)) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "bad username escape");
      }
      String clientNonce =
          ScramSyntax.attribute(fields.get(3), 'r', MALFORMED_MESSAGE, "client-first-message");
      if (!ScramSyntax.validNonce(clientNonce)) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "bad client nonce");
      }
      if (fields.size() > 4) {
        throw new AuthenticationFailure(UNSUPPORTED, "extensions are not supported");
      }
      gs2Header = cbindFlag + ",,";
      clientFirstBare = message.substring(gs2Header.length());
      nonce = clientNonce + serverNonces.get();
      serverFirst =
          "r="
              + nonce
              + ",s="
              + ScramSyntax.base64(credential.salt())
              + ",i="
              + credential.iterations();
      state = State.AWAITING_CLIENT_FINAL;
      return ScramSyntax.utf8(serverFirst);
    }

    /** client-final-message → verified identity and server-final-message. */
    public Success clientFinal(byte[] clientFinalMessage) throws AuthenticationFailure {
      if (state != State.AWAITING_CLIENT_FINAL) {
        state = State.DONE;
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "client-final-message out of sequence");
      }
      state = State.DONE;
      String message =
          ScramSyntax.text(
              clientFinalMessage, MAX_MESSAGE_BYTES, MALFORMED_MESSAGE, "client-final-message");
      List<String> fields = ScramSyntax.fields(message);
      if (fields.size() != 3) {
        throw new AuthenticationFailure(
            fields.size() > 3 ? UNSUPPORTED : MALFORMED_MESSAGE,
            "client-final-message must be exactly c=,r=,p=");
      }
      String binding =
          ScramSyntax.attribute(fields.get(0), 'c', MALFORMED_MESSAGE, "client-final-message");
      byte[] cbind =
          ScramSyntax.base64(binding, MAX_MESSAGE_BYTES, MALFORMED_MESSAGE, "channel binding");
      if (!Arrays.equals(cbind, ScramSyntax.utf8(gs2Header))) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "channel binding does not match");
      }
      String finalNonce =
          ScramSyntax.attribute(fields.get(1), 'r', MALFORMED_MESSAGE, "client-final-message");
      if (!MessageDigest.isEqual(ScramSyntax.utf8(finalNonce), ScramSyntax.utf8(nonce))) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "nonce does not match");
      }
      String proofText =
          ScramSyntax.attribute(fields.get(2), 'p', MALFORMED_MESSAGE, "client-final-message");
      byte[] proof =
          ScramSyntax.base64(proofText, ScramKeys.KEY_LENGTH, MALFORMED_MESSAGE, "proof");
      if (proof.length != ScramKeys.KEY_LENGTH) {
        throw new AuthenticationFailure(MALFORMED_MESSAGE, "proof has the wrong length");
      }
      String withoutProof = message.substring(0, message.length() - fields.get(2).length() - 1);
      byte[] authMessage =
          ScramSyntax.utf8(clientFirstBare + "," + serverFirst + "," + withoutProof);

      byte[] storedKey = credential.storedKey();
      byte[] clientSignature = ScramKeys.hmac(storedKey, authMessage);
      byte[] clientKey = ScramKeys.xor(proof, clientSignature);
      boolean proofOk = MessageDigest.isEqual(ScramKeys.sha256(clientKey), storedKey);
      // Computed before the verdict on every path, so that the known and unknown cases take the
      // same time.
      byte[] serverSignature = ScramKeys.hmac(credential.serverKey(), authMessage);
      if (user == null) {
        throw new AuthenticationFailure(UNKNOWN_USER, "no such user");
      }
      if (!proofOk) {
        throw new AuthenticationFailure(BAD_PASSWORD, "proof does not verify");
      }
      if (user.refusal().isPresent()) {
        throw new AuthenticationFailure(
            user.refusal().get(), "the credential is correct but no longer valid");
      }
      return new Success(
          user.identity(), ScramSyntax.utf8("v=" + ScramSyntax.base64(serverSignature)));
    }
  }
}
