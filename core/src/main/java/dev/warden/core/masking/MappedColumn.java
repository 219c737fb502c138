package dev.warden.core.masking;

import java.util.Objects;
import java.util.Optional;

/**
 * One column of a relation in a {@link DataMap}.
 *
 * @param number the column's position as the database numbers it (PostgreSQL: {@code attnum}, from
 *     1; dropped columns are not listed)
 * @param name the column's name, as the database stores it
 * @param type the column's type, as the database names it (e.g. {@code text}, {@code character
 *     varying(255)}, {@code inet})
 * @param kind the kind of sensitive data it holds, or empty when it holds none Warden knows of
 * @param finding how the kind was found (or, for an unmarked column, {@link Finding#POLICY} when
 *     policy unmarked it); meaningless when {@code kind} is empty and policy did not unmark it
 * @param detail for people: what was seen (e.g. {@code "name 'email'"}, {@code "37 of 50 sampled
 *     values"}, {@code "view over public.users.email"})
 */
public record MappedColumn(
    int number, String name, String type, Optional<DataKind> kind, Finding finding, String detail) {
  public MappedColumn {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(finding, "finding");
    Objects.requireNonNull(detail, "detail");
  }

  public boolean sensitive() {
    return kind.isPresent();
  }
}
