package dev.warden.server.masking;

import dev.warden.testkit.Canary;
import dev.warden.testkit.CanaryScanner;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Random, valid-looking sensitive values for one run, each a {@link Canary} whose unique part sits
 * where the default masks do not look: the local part of an e-mail at the shared domain {@code
 * example.com}, the first twelve digits of a Luhn-valid card (the mask keeps the last four), an
 * IBAN's check digits and BBAN before its last four, a phone number's digits before its last two, a
 * whole SSN in the issued ranges, a date of birth's month and day in every DateStyle and in binary.
 */
final class SeedValues {
  private static final String LOWER = "abcdefghijklmnopqrstuvwxyz";
  private static final String ALNUM = LOWER + "0123456789";
  private static final String MIXED = ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final String BCRYPT = "./" + MIXED;
  private static final LocalDate POSTGRES_EPOCH = LocalDate.of(2000, 1, 1);

  private final SecureRandom random;
  private final Set<String> used = new HashSet<>();
  private final List<Canary> canaries = new ArrayList<>();

  SeedValues(SecureRandom random) {
    this.random = random;
  }

  /** Every canary made so far. */
  List<Canary> canaries() {
    return List.copyOf(canaries);
  }

  private String pick(String alphabet, int n) {
    while (true) {
      StringBuilder sb = new StringBuilder(n);
      for (int i = 0; i < n; i++) {
        sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String s = sb.toString();
      // Pieces long enough to be unique parts are unique across the run.
      if (n < CanaryScanner.MIN_SUBSTRING || used.add(s)) {
        return s;
      }
    }
  }

  private String digits(int n) {
    return pick("0123456789", n);
  }

  private <T extends Canary> T add(T c) {
    canaries.add(c);
    return c;
  }

  String email(String name) {
    String local = "cnry" + pick(ALNUM, 10);
    return add(Canary.of(name, local + "@example.com", local)).value();
  }

  /** A person's name; the surname is the unique part, with non-ASCII letters when asked. */
  String fullName(String name, boolean nonAscii) {
    String surname =
        nonAscii
            ? "Ø" + Character.toUpperCase(LOWER.charAt(random.nextInt(26))) + pick(LOWER, 8) + "ë"
            : Character.toUpperCase(LOWER.charAt(random.nextInt(26))) + pick(LOWER, 9);
    String first = nonAscii ? "Zoë" : "Ada";
    return add(Canary.of(name, first + " " + surname, surname)).value();
  }

  /** E.164, North American numbering plan; the mask keeps the last two digits. */
  String phone(String name) {
    String area = (2 + random.nextInt(8)) + digits(2);
    String exchange = (2 + random.nextInt(8)) + digits(2);
    String line = digits(4);
    String value = "+1" + area + exchange + line;
    return add(Canary.of(name, value, area + exchange + line.substring(0, 2))).value();
  }

  /** A US SSN in the issued ranges (area 001-899 except 666, group 01-99, serial 0001-9999). */
  String ssn(String name) {
    while (true) {
      int area = 1 + random.nextInt(899);
      int group = 1 + random.nextInt(99);
      int serial = 1 + random.nextInt(9999);
      if (area == 666) {
        continue;
      }
      String dashed = String.format("%03d-%02d-%04d", area, group, serial);
      String plain = dashed.replace("-", "");
      if (!used.add(plain)) {
        continue;
      }
      return add(Canary.of(name, dashed, dashed, plain)).value();
    }
  }

  /** A Visa number: 4, fourteen random digits, the Luhn check digit. */
  String card(String name) {
    String body = "4" + digits(14);
    String value = body + luhn(body);
    return add(Canary.of(name, value, value.substring(0, 12))).value();
  }

  /** A German IBAN (18-digit BBAN) with valid check digits. */
  String iban(String name) {
    String bban = digits(18);
    // ISO 13616: move "DE00" to the end, letters to numbers (D=13, E=14), 98 - mod 97.
    int check =
        98
            - new java.math.BigInteger(bban + "131400")
                .mod(java.math.BigInteger.valueOf(97))
                .intValue();
    String value = "DE" + String.format("%02d", check) + bban;
    return add(Canary.of(name, value, value.substring(2, value.length() - 4))).value();
  }

  /** An IPv6 address of the documentation prefix with no zero group (printed as stored). */
  String ipv6(String name) {
    String[] groups = new String[6];
    for (int i = 0; i < 6; i++) {
      groups[i] = pick("123456789abcdef", 1) + pick("0123456789abcdef", 3);
    }
    String value = "2001:db8:" + String.join(":", groups);
    ByteBuffer binary = ByteBuffer.allocate(16).putShort((short) 0x2001).putShort((short) 0x0db8);
    for (String g : groups) {
      binary.putShort((short) Integer.parseInt(g, 16));
    }
    String unique = groups[1] + ":" + groups[2] + ":" + groups[3];
    return add(Canary.of(name, value, unique).withForm("inet binary address", binary.array()))
        .value();
  }

  /** A date of birth between 1950 and 1999; month and day differ from every other one. */
  LocalDate dateOfBirth(String name) {
    while (true) {
      LocalDate d =
          LocalDate.of(1950 + random.nextInt(50), 1 + random.nextInt(12), 1 + random.nextInt(28));
      // The partial mask of a date of birth is 1 January of its year, so a canary born on that
      // day would read as leaked although the client learns only the year.
      if (d.getDayOfYear() == 1 || !used.add(d.getMonthValue() + "/" + d.getDayOfMonth())) {
        continue;
      }
      int days = (int) ChronoUnit.DAYS.between(POSTGRES_EPOCH, d);
      byte[] binary = ByteBuffer.allocate(8).putInt(4).putInt(days).array();
      Canary c =
          Canary.of(name, d.toString())
              .withForm("date binary (with its length)", binary)
              .withForm("date MDY", fmt(d, "MM/dd/yyyy"))
              .withForm("date DMY", fmt(d, "dd/MM/yyyy"))
              .withForm("date German", fmt(d, "dd.MM.yyyy"))
              .withForm("date Postgres MDY", fmt(d, "MM-dd-yyyy"))
              .withForm("date Postgres DMY", fmt(d, "dd-MM-yyyy"))
              .withForm("date compact", fmt(d, "yyyyMMdd"));
      add(c);
      return d;
    }
  }

  private static byte[] fmt(LocalDate d, String pattern) {
    return DateTimeFormatter.ofPattern(pattern)
        .format(d)
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  String bcrypt(String name) {
    String unique = pick(MIXED, 12);
    String value = "$2b$12$" + unique + pick(BCRYPT, 41);
    return add(Canary.of(name, value, unique)).value();
  }

  /** A GitHub personal access token: {@code ghp_} and 36 letters and digits. */
  String githubToken(String name) {
    String unique = pick(MIXED, 12);
    String value = "ghp_" + unique + pick(MIXED, 24);
    return add(Canary.of(name, value, unique)).value();
  }

  String password(String name) {
    String unique = pick(MIXED, 12);
    return add(Canary.of(name, "Pw-" + unique + "!", unique)).value();
  }

  /** A JWT with an HS256 header; the unique part is in its signature. */
  String jwt(String name) {
    String payload =
        java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(("{\"sub\":\"" + pick(ALNUM, 8) + "\"}").getBytes());
    String unique = pick(MIXED, 12);
    String value =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + payload + "." + unique + pick(MIXED, 31);
    return add(Canary.of(name, value, unique)).value();
  }

  /** A PEM private key (not a real one: its body is random base64). */
  String privateKey(String name) {
    String unique = pick(MIXED, 12);
    String value =
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
            + unique
            + pick(MIXED, 20)
            + "\n-----END PRIVATE KEY-----\n";
    return add(Canary.of(name, value, unique)).value();
  }

  /** A street address; the street's name is the unique part. */
  String address(String name) {
    String street = Character.toUpperCase(LOWER.charAt(random.nextInt(26))) + pick(LOWER, 9);
    String value = (1 + random.nextInt(200)) + " " + street + " Street, Springfield";
    return add(Canary.of(name, value, street)).value();
  }

  /** Free text that holds no canary but a unique marker of its own (the control). */
  String token(int n) {
    return pick(LOWER, n);
  }

  private static int luhn(String body) {
    int sum = 0;
    boolean twice = true;
    for (int i = body.length() - 1; i >= 0; i--) {
      int d = body.charAt(i) - '0';
      if (twice) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      twice = !twice;
    }
    return (10 - sum % 10) % 10;
  }
}
