package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PasswordHashDetectorTest {
  private final ContentDetector detector = new PasswordHashDetector();

  static String b64(int n, long seed) {
    byte[] bytes = new byte[n];
    new Random(seed).nextBytes(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  static String scram(long seed) {
    return "SCRAM-SHA-256$4096:"
        + b64(16, seed)
        + "$"
        + b64(32, seed + 1)
        + ":"
        + b64(32, seed + 2);
  }

  static Stream<String> hashes() {
    return Stream.of(
        "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$2y$04$abcdefghijklmnopqrstuu5Ebz8c1Ny3Ny3Ny3Ny3Ny3Ny3Ny3Ny.",
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "$argon2i$m=4096,t=3,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D",
        "scrypt$16384$abcdefghijklmnop$8$1$" + b64(64, 1),
        "pbkdf2_sha256$600000$Jh3kLmN0pQrStUvW$" + b64(32, 2),
        "pbkdf2_sha1$10000$saltsalt$" + b64(20, 3),
        scram(4),
        "md5" + "0123456789abcdef0123456789abcdef");
  }

  static Stream<String> nearMisses() {
    return Stream.of(
        "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW",
        "$2a$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2c$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh!y",
        "$argon2id$v=19$m=65536,t=3$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "$argon2x$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "$scrypt$ln=16,r=8$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        "pbkdf2_sha256$10$Jh3kLmN0pQrStUvW$" + b64(32, 2),
        "pbkdf2_md5$600000$Jh3kLmN0pQrStUvW$" + b64(32, 2),
        scram(5).replace("SCRAM-SHA-256$4096", "SCRAM-SHA-256$x"),
        scram(6).substring(0, scram(6).length() - 4),
        "md5" + "0123456789ABCDEF0123456789ABCDEF",
        "md5" + "0123456789abcdef0123456789abcde",
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "correct horse battery staple");
  }

  @ParameterizedTest
  @MethodSource("hashes")
  void recognisesStoredVerifiers(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @MethodSource("nearMisses")
  void refusesMalformedVerifiersAndBareDigests(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
