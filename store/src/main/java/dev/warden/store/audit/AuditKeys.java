package dev.warden.store.audit;

import dev.warden.store.files.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The audit trail's keys: the Ed25519 key that signs checkpoints, and the key of the {@code
 * text_hmac} field of redacted statements ({@code AuditEncoder}). Both stay the same across
 * restarts, so they live in files in Warden's secrets directory, readable only by Warden's user
 * (mode 0600, the directory 0700): a checkpoint signed with a key that changed on every start would
 * prove nothing, and an HMAC under a new key would not match older records.
 *
 * <p>The public half is also written beside the log and into the witness directory ({@link
 * #PUBLIC_KEY_FILE}, PEM, readable by {@code openssl pkey -pubin}), where the verifier finds it;
 * the witness's copy is the one to trust, since someone able to rewrite the log can rewrite the
 * copy beside it.
 *
 * <p>{@link #toString} shows the public key's fingerprint only.
 */
public final class AuditKeys {
  /** The signing key (PKCS#8 and its public key, PEM) in the secrets directory. */
  public static final String SIGNING_KEY_FILE = "audit-signing.key";

  /** The 32-byte key of {@code text_hmac} in the secrets directory. */
  public static final String TEXT_HMAC_KEY_FILE = "audit-text-hmac.key";

  /** The public key (PEM) beside the log. */
  public static final String PUBLIC_KEY_FILE = "audit-signing.pub";

  static final int HMAC_KEY_BYTES = 32;

  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

  private final PrivateKey signingKey;
  private final PublicKey publicKey;
  private final byte[] textHmacKey;

  private AuditKeys(PrivateKey signingKey, PublicKey publicKey, byte[] textHmacKey) {
    this.signingKey = signingKey;
    this.publicKey = publicKey;
    this.textHmacKey = textHmacKey.clone();
  }

  /**
   * Reads the keys from {@code secretsDir}, creating each that is missing.
   *
   * @throws IOException when a key file cannot be read or written, may be read by other users, or
   *     does not hold a key
   */
  public static AuditKeys loadOrCreate(Path secretsDir) throws IOException {
    Objects.requireNonNull(secretsDir, "secretsDir");
    PrivateFiles.createDirectory(secretsDir);
    Path signing = secretsDir.resolve(SIGNING_KEY_FILE);
    KeyPair pair;
    if (Files.exists(signing)) {
      pair = readSigningKey(signing);
    } else {
      pair = generateKeyPair();
      PrivateFiles.write(signing, signingPem(pair));
    }
    Path hmac = secretsDir.resolve(TEXT_HMAC_KEY_FILE);
    byte[] hmacKey;
    if (Files.exists(hmac)) {
      refuseExposed(hmac);
      hmacKey = Files.readAllBytes(hmac);
      if (hmacKey.length != HMAC_KEY_BYTES) {
        int length = hmacKey.length;
        Arrays.fill(hmacKey, (byte) 0);
        throw new IOException(
            hmac
                + " holds "
                + length
                + " bytes, expected "
                + HMAC_KEY_BYTES
                + "; restore it from a backup (a new key would not match older records)");
      }
    } else {
      hmacKey = new byte[HMAC_KEY_BYTES];
      new SecureRandom().nextBytes(hmacKey);
      PrivateFiles.write(hmac, hmacKey);
    }
    try {
      return new AuditKeys(pair.getPrivate(), pair.getPublic(), hmacKey);
    } finally {
      Arrays.fill(hmacKey, (byte) 0);
    }
  }

  /** Fresh keys that live only in memory: for tests and benchmarks. */
  public static AuditKeys generate() {
    byte[] hmacKey = new byte[HMAC_KEY_BYTES];
    new SecureRandom().nextBytes(hmacKey);
    KeyPair pair = generateKeyPair();
    return new AuditKeys(pair.getPrivate(), pair.getPublic(), hmacKey);
  }

  /** The key that verifies checkpoints. */
  public PublicKey publicKey() {
    return publicKey;
  }

  /** A copy of the key for {@code AuditEncoder}'s {@code text_hmac}. */
  public byte[] textHmacKey() {
    return textHmacKey.clone();
  }

  /** The signing key pair, for a store that signs checkpoints itself (the PostgreSQL store). */
  public KeyPair signingKeys() {
    return new KeyPair(publicKey, signingKey());
  }

  PrivateKey signingKey() {
    return signingKey;
  }

  /** The first 8 bytes of the SHA-256 of the public key, in hex: how messages name a key. */
  public static String fingerprint(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "AuditKeys[ed25519 " + fingerprint(publicKey) + "]";
  }

  /** The PEM text of a public key file. */
  static String publicKeyPem(PublicKey key) {
    return pem("PUBLIC KEY", key.getEncoded());
  }

  /** Reads a public key file written by {@link #writePublicKey}. */
  public static PublicKey readPublicKey(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    byte[] der = block(text, "PUBLIC KEY", file);
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " does not hold an Ed25519 public key: " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code key} to {@code file} if there is none, or checks that the one there is the same.
   *
   * @throws IOException when another key is there: the log was signed with a key other than this
   */
  static void writePublicKey(Path file, PublicKey key) throws IOException {
    if (Files.exists(file)) {
      PublicKey existing = readPublicKey(file);
      if (!Arrays.equals(existing.getEncoded(), key.getEncoded())) {
        throw new IOException(
            file
                + " holds the public key "
                + fingerprint(existing)
                + " but this Warden's audit signing key is "
                + fingerprint(key)
                + ": the log was signed with another key. Restore that key's file ("
                + SIGNING_KEY_FILE
                + ") in the secrets directory, or move the audit directory aside to start a new"
                + " log");
      }
      return;
    }
    Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(temporary, publicKeyPem(key), StandardCharsets.US_ASCII);
    try (FileChannel ch = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    move(temporary, file);
    LogFile.DISK.syncDirectory(file.toAbsolutePath().getParent());
  }

  private static KeyPair generateKeyPair() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }

  private static byte[] signingPem(KeyPair pair) {
    return (pem("PRIVATE KEY", pair.getPrivate().getEncoded())
            + pem("PUBLIC KEY", pair.getPublic().getEncoded()))
        .getBytes(StandardCharsets.US_ASCII);
  }

  private static KeyPair readSigningKey(Path file) throws IOException {
    refuseExposed(file);
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    byte[] privateDer = block(text, "PRIVATE KEY", file);
    byte[] publicDer = block(text, "PUBLIC KEY", file);
    try {
      KeyFactory ed = KeyFactory.getInstance("Ed25519");
      PrivateKey privateKey = ed.generatePrivate(new PKCS8EncodedKeySpec(privateDer));
      PublicKey publicKey = ed.generatePublic(new X509EncodedKeySpec(publicDer));
      Arrays.fill(privateDer, (byte) 0);
      // The two halves must belong together, or every checkpoint would fail to verify.
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(privateKey);
      byte[] probe = "warden-audit-key-check".getBytes(StandardCharsets.US_ASCII);
      s.update(probe);
      byte[] signature = s.sign();
      s.initVerify(publicKey);
      s.update(probe);
      if (!s.verify(signature)) {
        throw new IOException(file + " holds a private and a public key that do not match");
      }
      return new KeyPair(publicKey, privateKey);
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " does not hold an Ed25519 key pair: " + e.getMessage(), e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static byte[] block(String text, String type, Path file) throws IOException {
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      if (m.group(1).equals(type)) {
        try {
          return Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
          throw new IOException(file + " has a damaged " + type + " block", e);
        }
      }
    }
    throw new IOException(file + " holds no " + type + " block");
  }

  private static void refuseExposed(Path file) throws IOException {
    if (PrivateFiles.isExposed(file)) {
      throw new IOException(file + " may be read by other users; run: chmod 600 " + file);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
