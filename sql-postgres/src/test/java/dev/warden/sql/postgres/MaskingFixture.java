package dev.warden.sql.postgres;

import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.Finding;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.masking.MappedRelation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A hand-built data map for masking tests: {@code public.users} with an e-mail, a national id and a
 * name, {@code billing.users} (same name, another schema) with a card number, and relations with
 * nothing sensitive ({@code notes}, {@code orders}, {@code staff}); {@code documents.data}, a jsonb
 * column, holds national ids inside its JSON (content sampling found them).
 */
final class MaskingFixture {
  static final long USERS = 16_401;
  static final long BILLING_USERS = 16_402;
  static final long NOTES = 16_403;
  static final long ORDERS = 16_404;
  static final long DOCUMENTS = 16_405;
  static final long STAFF = 16_406;

  private MaskingFixture() {}

  static DataMap map(long version) {
    return DataMap.of(
        "prod",
        "app",
        version,
        Instant.EPOCH,
        List.of(
            relation(
                USERS,
                "public",
                "users",
                "id",
                "email:EMAIL",
                "ssn:NATIONAL_ID",
                "name:PERSON_NAME",
                "data"),
            relation(BILLING_USERS, "billing", "users", "id", "card:PAYMENT_CARD"),
            relation(NOTES, "public", "notes", "id", "user_id", "body"),
            relation(ORDERS, "public", "orders", "id", "user_id", "total"),
            relation(DOCUMENTS, "public", "documents", "id", "data:NATIONAL_ID"),
            relation(STAFF, "public", "staff", "id", "name", "email")));
  }

  /** A map of the same relations with nothing sensitive (pgbench's tables, say). */
  static DataMap plain(long version) {
    return DataMap.of(
        "prod",
        "app",
        version,
        Instant.EPOCH,
        List.of(
            relation(USERS, "public", "users", "id", "email", "ssn", "name", "data"),
            relation(NOTES, "public", "notes", "id", "user_id", "body")));
  }

  /** {@code columns} as {@code name} or {@code name:KIND}, numbered from 1. */
  static MappedRelation relation(long id, String schema, String name, String... columns) {
    List<MappedColumn> cols = new ArrayList<>();
    for (int i = 0; i < columns.length; i++) {
      String[] parts = columns[i].split(":");
      Optional<DataKind> kind =
          parts.length > 1 ? Optional.of(DataKind.valueOf(parts[1])) : Optional.empty();
      cols.add(
          new MappedColumn(
              i + 1, parts[0], "text", kind, Finding.NAME, kind.isPresent() ? "name" : ""));
    }
    return new MappedRelation(id, schema, name, MappedRelation.Type.TABLE, cols);
  }
}
