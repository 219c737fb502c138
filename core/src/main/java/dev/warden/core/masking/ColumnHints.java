package dev.warden.core.masking;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The kinds of sensitive data a column's catalogue metadata suggests. Names, postal addresses,
 * dates of birth and plain passwords have no structure a content detector could validate, so a data
 * map learns them from the column's name, type and comment; for the other kinds the hint
 * complements sampling (an empty or sparse column is still marked).
 *
 * <p>Names are split into words (snake_case, camelCase, digits) and common compounds are expanded
 * ({@code firstname}, {@code zipcode}, {@code passwd}), so hints match whole words only: {@code
 * address} in {@code ip_address} is an IP address, not a postal one. The type must be able to hold
 * the data: {@code email_verified boolean} and {@code password_changed_at timestamptz} are not
 * sensitive. A comment adds the kinds its words name (e.g. "customer date of birth").
 */
public final class ColumnHints {
  private static final int MAX_TEXT = 1024;

  private static final Map<String, List<String>> COMPOUNDS =
      Map.ofEntries(
          Map.entry("firstname", List.of("first", "name")),
          Map.entry("lastname", List.of("last", "name")),
          Map.entry("fullname", List.of("full", "name")),
          Map.entry("givenname", List.of("given", "name")),
          Map.entry("familyname", List.of("family", "name")),
          Map.entry("middlename", List.of("middle", "name")),
          Map.entry("forename", List.of("first", "name")),
          Map.entry("surname", List.of("last", "name")),
          Map.entry("birthdate", List.of("birth", "date")),
          Map.entry("birthday", List.of("birth", "date")),
          Map.entry("dateofbirth", List.of("birth", "date")),
          Map.entry("dob", List.of("birth", "date")),
          Map.entry("zipcode", List.of("zip")),
          Map.entry("postcode", List.of("zip")),
          Map.entry("postalcode", List.of("zip")),
          Map.entry("addr", List.of("address")),
          Map.entry("streetaddress", List.of("street", "address")),
          Map.entry("emailaddress", List.of("email")),
          Map.entry("mail", List.of("email")),
          Map.entry("phonenumber", List.of("phone")),
          Map.entry("telephone", List.of("phone")),
          Map.entry("tel", List.of("phone")),
          Map.entry("mobile", List.of("phone")),
          Map.entry("msisdn", List.of("phone")),
          Map.entry("fax", List.of("phone")),
          Map.entry("ipaddress", List.of("ip")),
          Map.entry("ipaddr", List.of("ip")),
          Map.entry("passwd", List.of("password")),
          Map.entry("pwd", List.of("password")),
          Map.entry("passphrase", List.of("password")),
          Map.entry("cardnumber", List.of("card", "number")),
          Map.entry("ccnumber", List.of("card", "number")),
          Map.entry("ccnum", List.of("card", "number")),
          Map.entry("pan", List.of("card", "number")),
          Map.entry("creditcard", List.of("card", "number")),
          Map.entry("apikey", List.of("api", "key")),
          Map.entry("accesstoken", List.of("access", "token")),
          Map.entry("privatekey", List.of("private", "key")),
          Map.entry("ssn", List.of("national", "id")),
          Map.entry("nino", List.of("national", "id")),
          Map.entry("cpf", List.of("national", "id")),
          Map.entry("aadhaar", List.of("national", "id")),
          Map.entry("bsn", List.of("national", "id")),
          Map.entry("personnummer", List.of("national", "id")));

  /** Words that turn a column about the data into a column about something else. */
  private static final Set<String> ABOUT =
      Set.of(
          "at",
          "on",
          "changed",
          "updated",
          "created",
          "expires",
          "expiry",
          "expired",
          "verified",
          "confirmed",
          "count",
          "length",
          "policy",
          "required",
          "hint",
          "enabled",
          "flag",
          "is",
          "has",
          "status",
          "type",
          "template",
          "subject",
          "body",
          "sent",
          "format",
          "attempts",
          "last4",
          "mask",
          "masked",
          "opt",
          "optin",
          "valid",
          "strength",
          "algorithm",
          "version");

  /** Words that make "address" something other than a postal address. */
  private static final Set<String> NOT_POSTAL =
      Set.of(
          "ip",
          "mac",
          "email",
          "web",
          "url",
          "remote",
          "wallet",
          "memory",
          "host",
          "server",
          "network",
          "net",
          "inet",
          "socket",
          "bind",
          "listen",
          "local",
          "broadcast",
          "gateway",
          "proxy",
          "contract",
          "bitcoin",
          "btc",
          "eth",
          "ethereum",
          "crypto",
          "hw",
          "physical",
          "link",
          "file");

  private static final Set<String> PLURALS =
      Set.of(
          "email",
          "mail",
          "phone",
          "address",
          "password",
          "token",
          "key",
          "secret",
          "iban",
          "street",
          "ip",
          "ipaddress",
          "phonenumber",
          "emailaddress",
          "apikey",
          "passwd");

  private ColumnHints() {}

  /**
   * The kinds this column probably holds, judged from its name, its type as the catalogue writes it
   * ({@code character varying(255)}, {@code timestamptz}, {@code _text}; blank when unknown) and
   * its comment (may be null). Never throws; null or blank names give no kinds.
   */
  public static Set<DataKind> kindsFor(String columnName, String typeName, String comment) {
    Set<DataKind> kinds = EnumSet.noneOf(DataKind.class);
    TypeClass type = TypeClass.of(typeName);
    if (type == TypeClass.INET) {
      kinds.add(DataKind.IP_ADDRESS);
    }
    if (type == TypeClass.BOOLEAN) {
      return kinds;
    }
    if (columnName != null && !columnName.isBlank()) {
      fromWords(words(columnName), type, true, kinds);
    }
    if (comment != null && !comment.isBlank()) {
      fromWords(words(comment), type, false, kinds);
    }
    return kinds;
  }

  /** Lower-case words of a name or comment, compounds expanded; package-private for tests. */
  static List<String> words(String text) {
    String s = text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) : text;
    List<String> raw = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean letter = Character.isLetter(c);
      boolean digit = Character.isDigit(c);
      if (!letter && !digit) {
        flush(word, raw);
        continue;
      }
      if (word.length() > 0) {
        char prev = s.charAt(i - 1);
        boolean lowerToUpper = Character.isUpperCase(c) && Character.isLowerCase(prev);
        boolean acronymEnd =
            Character.isUpperCase(c)
                && Character.isUpperCase(prev)
                && i + 1 < s.length()
                && Character.isLowerCase(s.charAt(i + 1));
        boolean letterDigit = digit != Character.isDigit(prev);
        if (lowerToUpper || acronymEnd || letterDigit) {
          flush(word, raw);
        }
      }
      word.append(c);
    }
    flush(word, raw);
    List<String> words = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      String w = raw.get(i);
      // "e-mail", "e_mail": a lone "e" before "mail" is one word.
      if (w.equals("e") && i + 1 < raw.size() && raw.get(i + 1).equals("mail")) {
        continue;
      }
      words.addAll(COMPOUNDS.getOrDefault(singular(w), List.of(singular(w))));
    }
    return words;
  }

  /** "emails", "addresses", "api_keys": plural names of columns holding many values. */
  private static String singular(String w) {
    if (w.endsWith("es") && PLURALS.contains(w.substring(0, w.length() - 2))) {
      return w.substring(0, w.length() - 2);
    }
    if (w.endsWith("s") && PLURALS.contains(w.substring(0, w.length() - 1))) {
      return w.substring(0, w.length() - 1);
    }
    return w;
  }

  private static void flush(StringBuilder word, List<String> out) {
    if (!word.isEmpty()) {
      out.add(word.toString().toLowerCase(Locale.ROOT));
      word.setLength(0);
    }
  }

  private static void fromWords(
      List<String> w, TypeClass type, boolean isName, Set<DataKind> kinds) {
    // Prose uses "is", "on", "at" freely; in a comment only the type rules out false friends.
    boolean about = isName && w.stream().anyMatch(ABOUT::contains);
    boolean textual = type == TypeClass.TEXT || type == TypeClass.UNKNOWN;
    boolean textOrNumber = textual || type == TypeClass.NUMBER;
    boolean textOrBytes = textual || type == TypeClass.BINARY;
    if (about) {
      // "password_changed_at", "email_verified", "phone_type": about the data, not the data.
      return;
    }
    if (w.contains("email") && textual) {
      kinds.add(DataKind.EMAIL);
    }
    if (w.contains("phone") && !w.contains("country") && !w.contains("code") && textOrNumber) {
      kinds.add(DataKind.PHONE);
    }
    if (w.contains("iban") && textual) {
      kinds.add(DataKind.IBAN);
    }
    if (w.contains("card") && w.contains("number") && textOrNumber) {
      kinds.add(DataKind.PAYMENT_CARD);
    }
    if (nationalId(w) && textOrNumber) {
      kinds.add(DataKind.NATIONAL_ID);
    }
    if (w.contains("ip") && (textOrNumber || type == TypeClass.INET)) {
      kinds.add(DataKind.IP_ADDRESS);
    }
    if (w.contains("birth") && w.contains("date") && (textual || type == TypeClass.DATE)) {
      kinds.add(DataKind.DATE_OF_BIRTH);
    }
    if (personName(w) && textual) {
      kinds.add(DataKind.PERSON_NAME);
    }
    if (postal(w) && (textual || (w.contains("zip") && type == TypeClass.NUMBER))) {
      kinds.add(DataKind.POSTAL_ADDRESS);
    }
    boolean hashWord =
        w.contains("hash")
            || w.contains("hashed")
            || w.contains("digest")
            || w.contains("encrypted")
            || w.contains("crypted");
    if ((w.contains("password") || w.contains("secret")) && textOrBytes) {
      kinds.add(hashWord ? DataKind.PASSWORD_HASH : DataKind.PASSWORD);
    }
    if (apiToken(w) && textOrBytes) {
      kinds.add(DataKind.API_TOKEN);
    }
    if (w.contains("private") && w.contains("key") && textOrBytes) {
      kinds.add(DataKind.PRIVATE_KEY);
    }
    if (w.contains("jwt") && textual) {
      kinds.add(DataKind.JWT);
    }
  }

  private static boolean nationalId(List<String> w) {
    return (w.contains("national") && (w.contains("id") || w.contains("number")))
        || (w.contains("social") && w.contains("security"))
        || (w.contains("tax") && (w.contains("id") || w.contains("number")))
        || (w.contains("passport") && (w.contains("number") || w.contains("no")));
  }

  private static boolean personName(List<String> w) {
    if (!w.contains("name")) {
      return false;
    }
    return w.contains("first")
        || w.contains("last")
        || w.contains("full")
        || w.contains("given")
        || w.contains("family")
        || w.contains("middle")
        || w.contains("maiden")
        || w.contains("holder")
        || w.contains("person")
        || w.contains("customer")
        || w.contains("contact")
        || w.contains("patient")
        || w.contains("employee");
  }

  private static boolean postal(List<String> w) {
    if (w.contains("zip")) {
      return !w.contains("file") && !w.contains("archive");
    }
    if (w.contains("street")) {
      return true;
    }
    if (w.contains("address") || (w.contains("postal") && w.contains("address"))) {
      return w.stream().noneMatch(NOT_POSTAL::contains) && !w.contains("phone");
    }
    return false;
  }

  private static boolean apiToken(List<String> w) {
    return (w.contains("api") && w.contains("key"))
        || w.contains("token")
        || (w.contains("secret") && w.contains("key"))
        || (w.contains("access") && w.contains("key"));
  }

  /** What a column's type can hold, as far as hints care. */
  private enum TypeClass {
    TEXT,
    NUMBER,
    DATE,
    BOOLEAN,
    BINARY,
    INET,
    UNKNOWN;

    static TypeClass of(String typeName) {
      if (typeName == null || typeName.isBlank()) {
        return UNKNOWN;
      }
      String t = typeName.strip().toLowerCase(Locale.ROOT);
      if (t.length() > 64) {
        return UNKNOWN;
      }
      if (t.endsWith("[]")) {
        t = t.substring(0, t.length() - 2);
      } else if (t.startsWith("_")) {
        t = t.substring(1); // PostgreSQL's name for the array type
      }
      int paren = t.indexOf('(');
      if (paren >= 0) {
        t = t.substring(0, paren).strip();
      }
      return switch (t) {
        case "text",
            "varchar",
            "character varying",
            "char",
            "character",
            "bpchar",
            "citext",
            "name",
            "json",
            "jsonb",
            "xml",
            "string",
            "nvarchar",
            "nchar",
            "clob",
            "tinytext",
            "mediumtext",
            "longtext" ->
            TEXT;
        case "smallint",
            "integer",
            "int",
            "int2",
            "int4",
            "int8",
            "bigint",
            "numeric",
            "decimal",
            "real",
            "double precision",
            "float4",
            "float8",
            "serial",
            "bigserial" ->
            NUMBER;
        case "date",
            "timestamp",
            "timestamptz",
            "timestamp with time zone",
            "timestamp without time zone",
            "time",
            "timetz",
            "interval",
            "datetime" ->
            DATE;
        case "bool", "boolean", "bit" -> BOOLEAN;
        case "bytea", "blob", "binary", "varbinary" -> BINARY;
        case "inet", "cidr" -> INET;
        default -> UNKNOWN;
      };
    }
  }
}
