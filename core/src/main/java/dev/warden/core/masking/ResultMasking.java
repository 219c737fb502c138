package dev.warden.core.masking;

import dev.warden.core.statement.CopyOut;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What to mask in the results of one statement, for the identity that runs it: part of the decision
 * the proxy obeys. The proxy asks once per result description, column by column, and then applies
 * the masks to every row; with no mask for any column it forwards rows untouched.
 *
 * <p>Implementations are thread-safe and never throw; they may read the current data map at each
 * call (a prepared statement's decision outlives schema changes).
 */
public interface ResultMasking {
  /**
   * False when nothing of this statement's results is masked: the identity is exempt, or the
   * environment masks nothing. The proxy then does not look at results at all.
   */
  boolean active();

  /**
   * Whether the proxy must look at this statement's results at all. False when {@link #active()}
   * is, and also when the statement touches no sensitive column and nothing whose origin is hidden
   * (user functions, cursors, relations the data map lacks): then no value of its results can need
   * masking, and the proxy forwards them unread, as for an exempt identity. Its errors are still
   * scrubbed as {@link #scrubText} says.
   */
  default boolean inspectsResults() {
    return active();
  }

  /**
   * The mask for a result column the engine says comes from column {@code column} of relation
   * {@code relationId} (PostgreSQL: RowDescription's table OID and attribute number; a column
   * number of 0 is a whole-row reference), or null when it is not masked. A relation the data map
   * does not know is masked (and reported through {@link DataMaps#unknownRelation}).
   */
  ColumnMask column(long relationId, int column);

  /**
   * The mask for a result column with no source column (an expression, aggregate, function result,
   * set operation, ...), or null when none of the statement's sensitive columns can feed it. When
   * null, the proxy still passes that column's values through {@link #backstop} and {@link
   * #scrubText}.
   */
  ColumnMask computed();

  /**
   * The mask for values of unknown origin that a content detector recognises (the backstop), or
   * null when no detector matches {@code value}.
   */
  ColumnMask backstop(String value);

  /**
   * One column of an export whose rows carry no origins ({@link #export()}).
   *
   * @param name the column's name for the audit record ({@code public.users.email}, or {@code
   *     column 3} for a query's)
   * @param mask its mask, or null when its values pass as they are
   * @param type what a masked value must still be
   */
  record ExportColumn(String name, ColumnMask mask, ValueType type) {}

  /**
   * The stream of rows the statement sends the client without origins (PostgreSQL: {@code COPY ...
   * TO STDOUT}), when it sends one: the proxy then masks its values by position, with {@link
   * #exportColumns}.
   */
  default Optional<CopyOut> export() {
    return Optional.empty();
  }

  /**
   * How each of the {@code count} columns of the statement's export is masked, in order. When the
   * columns cannot be told apart (a query is copied, or the relation's columns as known do not
   * number {@code count}), each gets the mask of a computed column.
   */
  default List<ExportColumn> exportColumns(int count) {
    List<ExportColumn> columns = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      columns.add(new ExportColumn("column " + (i + 1), computed(), ValueType.TEXT));
    }
    return columns;
  }

  /**
   * Whether server errors and notices about this statement must lose their text (message, detail,
   * hint, context, where): true when the statement reads or writes sensitive columns, since the
   * server quotes values in them ({@code invalid input syntax for type integer: "alice@…"}).
   */
  boolean scrubErrors();

  /**
   * {@code text} (an error or notice field, a notification payload, a parameter value) with every
   * word a content detector recognises masked; {@code text} itself when nothing is recognised.
   */
  String scrubText(String text);

  /** Nothing is masked. */
  ResultMasking NONE =
      new ResultMasking() {
        @Override
        public boolean active() {
          return false;
        }

        @Override
        public ColumnMask column(long relationId, int column) {
          return null;
        }

        @Override
        public ColumnMask computed() {
          return null;
        }

        @Override
        public ColumnMask backstop(String value) {
          return null;
        }

        @Override
        public boolean scrubErrors() {
          return false;
        }

        @Override
        public String scrubText(String text) {
          return text;
        }
      };
}
