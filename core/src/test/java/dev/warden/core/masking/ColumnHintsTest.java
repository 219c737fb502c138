package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ColumnHintsTest {
  private static Set<DataKind> kinds(String list) {
    Set<DataKind> kinds = EnumSet.noneOf(DataKind.class);
    if (!list.isBlank()) {
      Arrays.stream(list.split(" ")).map(DataKind::valueOf).forEach(kinds::add);
    }
    return kinds;
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "dob|date|DATE_OF_BIRTH",
        "birth_date|date|DATE_OF_BIRTH",
        "date_of_birth|timestamp without time zone|DATE_OF_BIRTH",
        "dateOfBirth|varchar|DATE_OF_BIRTH",
        "birthdate|text|DATE_OF_BIRTH",
        "first_name|character varying(100)|PERSON_NAME",
        "lastName|text|PERSON_NAME",
        "FullName|text|PERSON_NAME",
        "surname|varchar|PERSON_NAME",
        "card_holder_name|text|PERSON_NAME",
        "street|text|POSTAL_ADDRESS",
        "address_line1|text|POSTAL_ADDRESS",
        "shipping_address|text|POSTAL_ADDRESS",
        "postcode|varchar(10)|POSTAL_ADDRESS",
        "zip|integer|POSTAL_ADDRESS",
        "zip_code|text|POSTAL_ADDRESS",
        "password|text|PASSWORD",
        "passwd|varchar|PASSWORD",
        "pwd|bytea|PASSWORD",
        "client_secret|text|PASSWORD",
        "password_hash|text|PASSWORD_HASH",
        "encrypted_password|character varying|PASSWORD_HASH",
        "email|citext|EMAIL",
        "e_mail|text|EMAIL",
        "emailAddress|varchar|EMAIL",
        "contact_email|text|EMAIL",
        "phone_number|text|PHONE",
        "mobile|varchar|PHONE",
        "iban|text|IBAN",
        "card_number|text|PAYMENT_CARD",
        "ccnum|bigint|PAYMENT_CARD",
        "ssn|text|NATIONAL_ID",
        "national_id|varchar|NATIONAL_ID",
        "ip_address|inet|IP_ADDRESS",
        "IPAddress|text|IP_ADDRESS",
        "last_seen_from|inet|IP_ADDRESS",
        "api_key|text|API_TOKEN",
        "refresh_token|text|API_TOKEN",
        "private_key|text|PRIVATE_KEY",
        "emails|_text|EMAIL",
        "home_addresses|text|POSTAL_ADDRESS",
        "api_keys|text[]|API_TOKEN",
        "email|text[]|EMAIL"
      })
  void suggestsKindsFromNamesAndTypes(String name, String type, String expected) {
    assertThat(ColumnHints.kindsFor(name, type, null)).isEqualTo(kinds(expected));
  }

  @ParameterizedTest(name = "{0} {1} is not sensitive")
  @CsvSource(
      delimiter = '|',
      value = {
        "ip_address|text|IP_ADDRESS",
        "mac_address|macaddr|''",
        "wallet_address|text|''",
        "email_verified|boolean|''",
        "email_verified_at|timestamptz|''",
        "email_template|text|''",
        "password_changed_at|timestamp with time zone|''",
        "password_reset_required|bool|''",
        "password_length|integer|''",
        "phone_type|text|''",
        "phone_country_code|text|''",
        "token_count|integer|''",
        "name|text|''",
        "username|text|''",
        "birth_year|integer|''",
        "dob|boolean|''",
        "hotel|text|''",
        "zip_file|bytea|''",
        "created_at|timestamptz|''",
        "order_number|bigint|''"
      })
  void avoidsFalseFriends(String name, String type, String expected) {
    assertThat(ColumnHints.kindsFor(name, type, null)).isEqualTo(kinds(expected));
  }

  @Test
  void commentsAddTheKindsTheyName() {
    assertThat(ColumnHints.kindsFor("c7", "date", "Customer date of birth"))
        .containsExactly(DataKind.DATE_OF_BIRTH);
    assertThat(ColumnHints.kindsFor("contact", "text", "E-mail address of the contact"))
        .containsExactly(DataKind.EMAIL);
    assertThat(ColumnHints.kindsFor("changed", "timestamptz", "when the password was changed"))
        .isEmpty();
    assertThat(ColumnHints.kindsFor("notes", "text", "free text")).isEmpty();
  }

  @Test
  void toleratesMissingAndHostileInput() {
    assertThat(ColumnHints.kindsFor(null, null, null)).isEmpty();
    assertThat(ColumnHints.kindsFor("", "", "")).isEmpty();
    assertThat(ColumnHints.kindsFor("email", null, null)).containsExactly(DataKind.EMAIL);
    assertThat(ColumnHints.kindsFor("x".repeat(100_000), "y".repeat(100_000), "z".repeat(100_000)))
        .isEmpty();
  }

  @Test
  void splitsSnakeCamelAndAcronyms() {
    assertThat(ColumnHints.words("billingAddressLine2"))
        .containsExactly("billing", "address", "line", "2");
    assertThat(ColumnHints.words("HTTPServerIP")).containsExactly("http", "server", "ip");
    assertThat(ColumnHints.words("user_FirstName")).containsExactly("user", "first", "name");
  }
}
