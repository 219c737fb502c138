package dev.warden.core.identity;

import static dev.warden.core.identity.AuthenticationFailure.Reason.UPSTREAM_REJECTED;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), used when Warden logs into an upstream
 * database. The upstream is treated as hostile (THREATS P15): the iteration count is capped before
 * any work is done, nonces and salts are bounded, every attribute is checked, and the server
 * signature is compared in constant time. One instance is one exchange, confined to one connection.
 *
 * <p>The sequence is {@link #clientFirstMessage()}, {@link #clientFinalMessage(byte[])}, {@link
 * #verifyServerFinal(byte[])}. The caller must not accept the server's "authentication ok" until
 * {@link #isComplete()} is true: a server that skips the final message has not proved that it knows
 * the password.
 */
public final class ScramClient {
  /** Default cap on the server's iteration count: PostgreSQL's default is 4096. */
  public static final int MAX_ITERATIONS = 100_000;

  /** Longest server message accepted; a real server-first-message is under 100 bytes. */
  static final int MAX_SERVER_MESSAGE_BYTES = 4096;

  /** Longest salt accepted, in bytes; PostgreSQL uses 16. */
  static final int MAX_SALT_BYTES = 64;

  private enum State {
    INITIAL,
    FIRST_SENT,
    FINAL_SENT,
    COMPLETE,
    FAILED
  }

  private final Secret password;
  private final String username;
  private final Supplier<String> nonces;
  private final int maxIterations;
  private State state = State.INITIAL;
  private String clientNonce;
  private String clientFirstBare;
  private byte[] expectedServerSignature;

  public ScramClient(Secret password, SecureRandom random) {
    this(password, random, MAX_ITERATIONS);
  }

  public ScramClient(Secret password, SecureRandom random, int maxIterations) {
    this(
        password,
        "",
        ScramSyntax.randomNonces(Objects.requireNonNull(random, "random")),
        maxIterations);
  }

  /**
   * With a chosen username and nonce source, so that tests can replay RFC 7677's exchange, which
   * sends {@code n=user}. PostgreSQL ignores the name and takes the startup packet's.
   */
  ScramClient(Secret password, String username, Supplier<String> nonces, int maxIterations) {
    this.password = Objects.requireNonNull(password, "password");
    if (password.isEmpty()) {
      throw new IllegalArgumentException("password must not be empty");
    }
    if (maxIterations < 1) {
      throw new IllegalArgumentException("maxIterations must be positive");
    }
    if (!ScramSyntax.validSaslName(username)) {
      throw new IllegalArgumentException("username is not a valid saslname");
    }
    this.username = username;
    this.nonces = Objects.requireNonNull(nonces, "nonces");
    this.maxIterations = maxIterations;
  }

  /** {@code n,,n=,r=<nonce>}, as PostgreSQL expects: no channel binding, empty name. */
  public byte[] clientFirstMessage() {
    if (state != State.INITIAL) {
      throw new IllegalStateException("client-first-message was already produced");
    }
    clientNonce = nonces.get();
    if (!ScramSyntax.validNonce(clientNonce)) {
      throw new IllegalStateException("nonce source produced an invalid nonce");
    }
    clientFirstBare = "n=" + username + ",r=" + clientNonce;
    state = State.FIRST_SENT;
    return ScramSyntax.utf8("n,," + clientFirstBare);
  }

  /**
   * server-first-message → client-final-message, or a failure if the server is not to be trusted.
   */
  public byte[] clientFinalMessage(byte[] serverFirst) throws AuthenticationFailure {
    if (state != State.FIRST_SENT) {
      state = State.FAILED;
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "server-first-message out of sequence");
    }
    state = State.FAILED;
    String message =
        ScramSyntax.text(
            serverFirst, MAX_SERVER_MESSAGE_BYTES, UPSTREAM_REJECTED, "server-first-message");
    List<String> fields = ScramSyntax.fields(message);
    if (fields.get(0).startsWith("e=")) {
      throw new AuthenticationFailure(
          UPSTREAM_REJECTED, "server error " + serverError(fields.get(0)));
    }
    if (fields.get(0).startsWith("m=")) {
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "server demands a mandatory extension");
    }
    if (fields.size() != 3) {
      throw new AuthenticationFailure(
          UPSTREAM_REJECTED, "server-first-message must be exactly r=,s=,i=");
    }
    String nonce =
        ScramSyntax.attribute(fields.get(0), 'r', UPSTREAM_REJECTED, "server-first-message");
    if (!ScramSyntax.validNonce(nonce)) {
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "bad server nonce");
    }
    // The server must extend our nonce with fresh characters of its own (RFC 5802 §5.1).
    if (nonce.length() <= clientNonce.length() || !nonce.startsWith(clientNonce)) {
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "server nonce does not extend ours");
    }
    String saltText =
        ScramSyntax.attribute(fields.get(1), 's', UPSTREAM_REJECTED, "server-first-message");
    byte[] salt = ScramSyntax.base64(saltText, MAX_SALT_BYTES, UPSTREAM_REJECTED, "salt");
    String iterationText =
        ScramSyntax.attribute(fields.get(2), 'i', UPSTREAM_REJECTED, "server-first-message");
    int iterations = iterations(iterationText);

    String withoutProof = "c=biws,r=" + nonce;
    byte[] authMessage = ScramSyntax.utf8(clientFirstBare + "," + message + "," + withoutProof);
    byte[] raw = password.bytes();
    byte[] normalized = SaslPrep.normalize(raw);
    byte[] salted = ScramKeys.saltedPassword(normalized, salt, iterations);
    try {
      byte[] clientKey = ScramKeys.clientKey(salted);
      byte[] clientSignature = ScramKeys.hmac(ScramKeys.sha256(clientKey), authMessage);
      byte[] proof = ScramKeys.xor(clientKey, clientSignature);
      expectedServerSignature = ScramKeys.hmac(ScramKeys.serverKey(salted), authMessage);
      state = State.FINAL_SENT;
      return ScramSyntax.utf8(withoutProof + ",p=" + ScramSyntax.base64(proof));
    } finally {
      Arrays.fill(raw, (byte) 0);
      Arrays.fill(normalized, (byte) 0);
      Arrays.fill(salted, (byte) 0);
    }
  }

  /** Checks the server-final-message: the server proves that it, too, knows the verifier. */
  public void verifyServerFinal(byte[] serverFinal) throws AuthenticationFailure {
    if (state != State.FINAL_SENT) {
      state = State.FAILED;
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "server-final-message out of sequence");
    }
    state = State.FAILED;
    String message =
        ScramSyntax.text(
            serverFinal, MAX_SERVER_MESSAGE_BYTES, UPSTREAM_REJECTED, "server-final-message");
    List<String> fields = ScramSyntax.fields(message);
    if (fields.get(0).startsWith("e=")) {
      throw new AuthenticationFailure(
          UPSTREAM_REJECTED, "server error " + serverError(fields.get(0)));
    }
    if (fields.size() != 1) {
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "server-final-message must be exactly v=");
    }
    String verifier =
        ScramSyntax.attribute(fields.get(0), 'v', UPSTREAM_REJECTED, "server-final-message");
    byte[] signature =
        ScramSyntax.base64(verifier, ScramKeys.KEY_LENGTH, UPSTREAM_REJECTED, "server signature");
    if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "server signature does not verify");
    }
    state = State.COMPLETE;
  }

  /** True once the server's signature has been verified. */
  public boolean isComplete() {
    return state == State.COMPLETE;
  }

  /** Parsed without overflow: at most ten digits, no sign, no leading zero, then the cap. */
  private int iterations(String text) throws AuthenticationFailure {
    if (text.isEmpty() || text.length() > 10 || text.charAt(0) == '0') {
      throw new AuthenticationFailure(UPSTREAM_REJECTED, "bad iteration count");
    }
    long value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new AuthenticationFailure(UPSTREAM_REJECTED, "bad iteration count");
      }
      value = value * 10 + (c - '0');
    }
    if (value > maxIterations) {
      throw new AuthenticationFailure(
          UPSTREAM_REJECTED, "iteration count " + value + " exceeds the cap of " + maxIterations);
    }
    return (int) value;
  }

  private static String serverError(String field) {
    return ScramSyntax.describe(field.substring(2));
  }

  @Override
  public String toString() {
    return "ScramClient[state=" + state + "]";
  }
}
