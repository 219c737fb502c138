package dev.warden.core.statement;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A statement's export of rows to the client as one stream (PostgreSQL: {@code COPY ... TO
 * STDOUT}). Its rows do not say which column each value comes from, so masking rewrites them by
 * position: this says what the positions are and how the stream is written.
 *
 * @param table the relation copied; empty when a query's results are copied
 * @param columns the relation's columns copied, in order, when the statement lists them; empty for
 *     all of them (and for a query)
 * @param format how rows are written
 * @param delimiter what separates values in a row (one character; text: tab, csv: comma)
 * @param nullString how SQL NULL is written (text: {@code \N}, csv: nothing)
 * @param quote csv: the quoting character ({@code "})
 * @param escape csv: the character that escapes a quote inside quotes (the quote itself)
 * @param header whether the stream starts with a row of column names
 * @param encoding the encoding the statement asks the stream to be written in, as the database
 *     names it; empty for the client's
 * @param unsupported why Warden cannot read the stream (an option it does not know), in words;
 *     empty when it can
 */
public record CopyOut(
    Optional<TableRef> table,
    List<String> columns,
    Format format,
    String delimiter,
    String nullString,
    String quote,
    String escape,
    boolean header,
    Optional<String> encoding,
    String unsupported) {
  /** How rows are written. */
  public enum Format {
    /** Values separated by the delimiter, special characters escaped with a backslash. */
    TEXT,
    /** Comma-separated values, quoted where needed. */
    CSV,
    /** The engine's binary send format, value by value. */
    BINARY
  }

  public CopyOut {
    Objects.requireNonNull(table, "table");
    columns = List.copyOf(columns);
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(delimiter, "delimiter");
    Objects.requireNonNull(nullString, "nullString");
    Objects.requireNonNull(quote, "quote");
    Objects.requireNonNull(escape, "escape");
    Objects.requireNonNull(encoding, "encoding");
    Objects.requireNonNull(unsupported, "unsupported");
  }

  /** Whether Warden can read the stream value by value. */
  public boolean readable() {
    return unsupported.isEmpty();
  }

  /** This export with its relation resolved to {@code resolved}. */
  public CopyOut withTable(TableRef resolved) {
    return new CopyOut(
        Optional.of(resolved),
        columns,
        format,
        delimiter,
        nullString,
        quote,
        escape,
        header,
        encoding,
        unsupported);
  }
}
