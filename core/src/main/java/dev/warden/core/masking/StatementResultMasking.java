package dev.warden.core.masking;

import dev.warden.core.statement.CopyOut;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the decision point hands the proxy for one statement of one identity: masks by origin, read
 * from the data map current when the proxy asks (a prepared statement's decision outlives schema
 * changes), and the statement's computed-column taint and error scrubbing, fixed when it was
 * judged.
 *
 * <p>A computed column fed by sensitive columns of one kind gets that kind's mask, unless the
 * kind's strategy is {@code partial}: it keeps a part of a value of the kind's shape (an e-mail
 * address's domain), and a computed value ({@code reverse(email)}, {@code substring(...)}) need not
 * have that shape, so the unknown kind's mask is used instead.
 *
 * <p>{@link #active()} is false exactly when the identity is exempt (or masking is off for it): the
 * proxy then never looks at results. For an identity that is not exempt it is true even when the
 * map has no sensitive column, so that values of unknown origin (functions, relations created since
 * the map was built) still pass the content detectors.
 *
 * <p>It also records what it was decided under (the map's version, when the identity's exemption
 * status next changes), so that a cached or prepared decision is not reused once that has changed:
 * see {@link #holds}.
 */
public final class StatementResultMasking implements ResultMasking {
  private final DataMaps maps;
  private final String environment;
  private final String database;
  private final SessionMasking session;
  private final DataMap basis;
  private final Instant validUntil;
  private final ColumnMask computed;
  private final ColumnMask unknown;
  private final boolean scrubErrors;
  private final boolean inspects;
  private final Optional<CopyOut> export;

  /** The strategy that keeps part of a value, as policy names it. */
  private static final String PARTIAL = "partial";

  /** What a text becomes when scrubbing it failed: nothing of it is shown. */
  static final String WITHHELD = "(text withheld by Warden)";

  /** The last map overlaid for {@link #column}, with its overlay. */
  private volatile Overlaid overlaid;

  private record Overlaid(DataMap raw, DataMap map) {}

  private StatementResultMasking(
      DataMaps maps,
      String environment,
      String database,
      SessionMasking session,
      DataMap basis,
      DataMap overlay,
      Optional<Instant> validUntil,
      ColumnMask computed,
      boolean scrubErrors,
      Optional<CopyOut> export) {
    this.maps = Objects.requireNonNull(maps, "maps");
    this.environment = Objects.requireNonNull(environment, "environment");
    this.database = Objects.requireNonNull(database, "database");
    this.session = session;
    this.basis = basis;
    this.validUntil = validUntil.orElse(null);
    this.computed = computed;
    this.unknown = session == null ? null : session.mask(Optional.empty());
    this.scrubErrors = scrubErrors;
    // Nothing sensitive touched and nothing hidden (which taints computed results and so sets
    // scrubErrors): no value of the results can need masking. Without a map, everything may.
    this.inspects = session != null && (basis == null || scrubErrors || computed != null);
    this.overlaid = basis == null ? null : new Overlaid(basis, overlay);
    this.export = export;
  }

  /**
   * The masking of a statement for an identity that is not exempt.
   *
   * @param basis the raw map the statement was judged under (as {@link DataMaps#current} gave it),
   *     or null when there was none (every column is then masked)
   * @param overlay {@code basis} overlaid by {@code session}, or null with it
   * @param judgement the statement's judgement under {@code overlay}
   */
  public static StatementResultMasking masked(
      DataMaps maps,
      String environment,
      String database,
      SessionMasking session,
      DataMap basis,
      DataMap overlay,
      MaskingJudge.Judgement judgement) {
    Objects.requireNonNull(session, "session");
    ColumnMask computed = null;
    if (judgement.computedTainted()) {
      computed = session.mask(judgement.computedKind());
      if (computed.kind().isPresent() && computed.strategy().equals(PARTIAL)) {
        // partial keeps a part of a value of the kind's shape, which a computed value need not
        // have: reverse(email) would keep the reversed local part as its "domain"
        computed = session.mask(Optional.empty());
      }
    }
    return new StatementResultMasking(
        maps,
        environment,
        database,
        session,
        basis,
        overlay,
        session.validUntil(),
        computed,
        judgement.scrubErrors(),
        judgement.export());
  }

  /**
   * No masking, for an identity exempt (or with masking off) until {@code validUntil}, judged under
   * {@code basis}.
   */
  public static StatementResultMasking exempt(
      DataMaps maps,
      String environment,
      String database,
      DataMap basis,
      Optional<Instant> validUntil) {
    return new StatementResultMasking(
        maps, environment, database, null, basis, basis, validUntil, null, false, Optional.empty());
  }

  /**
   * Whether a decision carrying this masking still holds: the data map is the one it was judged
   * under (same version, or still none) and the identity's exemption status has not changed since
   * ({@link SessionMasking#validUntil()}). Costs one map lookup, and a clock read only when the
   * status is due to change.
   */
  public boolean holds(InstantSource clock) {
    DataMap now = maps.current(environment, database).orElse(null);
    if (now != basis && (now == null || basis == null || now.version() != basis.version())) {
      return false;
    }
    return validUntil == null || clock.instant().isBefore(validUntil);
  }

  @Override
  public boolean active() {
    return session != null;
  }

  @Override
  public boolean inspectsResults() {
    return inspects;
  }

  @Override
  public ColumnMask column(long relationId, int column) {
    if (session == null || column < 0) {
      return null; // exempt; or a system column (ctid, xmin, ...), which holds no data
    }
    try {
      return mask(relationId, column);
    } catch (RuntimeException e) {
      return unknown; // never throw to the proxy, and never leave a column unmasked for a fault
    }
  }

  private ColumnMask mask(long relationId, int column) {
    DataMap map = current();
    if (map == null) {
      return unknown; // no map yet: fail closed
    }
    Optional<MappedRelation> relation = map.relation(relationId);
    if (relation.isEmpty()) {
      maps.unknownRelation(environment, database, relationId);
      return unknown;
    }
    MappedRelation r = relation.get();
    if (column == 0) {
      // a whole row: a composite holding every column, masked whole if any is sensitive
      return r.sensitive() ? unknown : null;
    }
    Optional<MappedColumn> c = r.column(column);
    if (c.isEmpty()) {
      // a column added since the map was built
      maps.unknownRelation(environment, database, relationId);
      return unknown;
    }
    return c.get().sensitive() ? session.mask(c.get().kind()) : null;
  }

  /** The current map, overlaid by the session's policy; null when there is none. */
  private DataMap current() {
    DataMap raw = maps.current(environment, database).orElse(null);
    if (raw == null) {
      return null;
    }
    Overlaid o = overlaid;
    if (o != null && o.raw() == raw) {
      return o.map();
    }
    DataMap map = session.overlay(raw);
    overlaid = new Overlaid(raw, map);
    return map;
  }

  @Override
  public ColumnMask computed() {
    return computed;
  }

  @Override
  public Optional<CopyOut> export() {
    return export;
  }

  /**
   * By the exported relation's columns in the current map: those listed, or all of them in order.
   * Where the columns cannot be lined up with the stream's (no map, a relation the map lacks or
   * names in more than one schema with other columns, a column count other than {@code count}, as
   * when the relation has generated columns, which COPY leaves out), every column is masked as data
   * of unknown kind; a query's columns get the computed mask.
   */
  @Override
  public List<ExportColumn> exportColumns(int count) {
    if (session == null) {
      List<ExportColumn> clear = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        clear.add(new ExportColumn("column " + (i + 1), null, ValueType.TEXT));
      }
      return clear;
    }
    try {
      List<ExportColumn> columns = exportByRelation(count);
      return columns != null ? columns : ResultMasking.super.exportColumns(count);
    } catch (RuntimeException e) {
      return unknownColumns(count); // never throw to the proxy, and never leave a value unmasked
    }
  }

  /** The columns of an exported relation, or null when a query is exported. */
  private List<ExportColumn> exportByRelation(int count) {
    CopyOut copy = export.orElse(null);
    if (copy == null || copy.table().isEmpty()) {
      return null;
    }
    DataMap map = current();
    List<MappedRelation> candidates =
        map == null ? List.of() : map.relationsNamed(copy.table().get());
    if (candidates.isEmpty()) {
      return unknownColumns(count); // no map yet, or a relation created since it was built
    }
    List<ExportColumn> merged = null;
    for (MappedRelation r : candidates) {
      List<ExportColumn> columns = exportColumns(r, copy.columns(), count);
      if (columns == null) {
        return unknownColumns(count);
      }
      merged = merged == null ? columns : merge(merged, columns);
    }
    return merged;
  }

  /** {@code r}'s columns as exported, or null when they do not number {@code count}. */
  private List<ExportColumn> exportColumns(MappedRelation r, List<String> named, int count) {
    List<ExportColumn> out = new ArrayList<>(count);
    if (named.isEmpty()) {
      for (MappedColumn c : r.columns()) {
        out.add(exportColumn(r, c));
      }
    } else {
      for (String name : named) {
        Optional<MappedColumn> c = r.column(name);
        out.add(
            c.isPresent()
                ? exportColumn(r, c.get())
                : new ExportColumn(r.qualifiedName() + "." + name, unknown, ValueType.TEXT));
      }
    }
    return out.size() == count ? out : null;
  }

  private ExportColumn exportColumn(MappedRelation r, MappedColumn c) {
    return new ExportColumn(
        r.qualifiedName() + "." + c.name(),
        c.sensitive() ? session.mask(c.kind()) : null,
        valueType(c.type()));
  }

  /** Two relations' readings of the same position: masked if either masks it. */
  private List<ExportColumn> merge(List<ExportColumn> a, List<ExportColumn> b) {
    List<ExportColumn> out = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) {
      ExportColumn x = a.get(i);
      ExportColumn y = b.get(i);
      ColumnMask mask =
          x.mask() == null
              ? y.mask()
              : y.mask() == null || y.mask() == x.mask() ? x.mask() : unknown;
      out.add(new ExportColumn(x.name(), mask, x.type() == y.type() ? x.type() : ValueType.OTHER));
    }
    return out;
  }

  private List<ExportColumn> unknownColumns(int count) {
    List<ExportColumn> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(new ExportColumn("column " + (i + 1), unknown, ValueType.TEXT));
    }
    return out;
  }

  /**
   * What a masked value of a column whose type the catalogue names {@code type} ({@code character
   * varying(255)}, {@code public.citext}) must still be.
   */
  static ValueType valueType(String type) {
    String t = type.toLowerCase(java.util.Locale.ROOT);
    if (t.endsWith("[]")) {
      return ValueType.OTHER;
    }
    if (t.startsWith("text")
        || t.startsWith("character")
        || t.equals("name")
        || t.equals("\"char\"")
        || t.equals("citext")
        || t.endsWith(".citext")) {
      return ValueType.TEXT;
    }
    return switch (t) {
      case "json", "jsonb" -> ValueType.JSON;
      case "bytea" -> ValueType.BYTES;
      case "date" -> ValueType.DATE;
      case "smallint", "integer", "bigint", "real", "double precision", "oid" -> ValueType.NUMBER;
      default -> t.startsWith("numeric") ? ValueType.NUMBER : ValueType.OTHER;
    };
  }

  @Override
  public ColumnMask backstop(String value) {
    if (session == null) {
      return null;
    }
    try {
      return session.backstop(value);
    } catch (RuntimeException e) {
      return unknown; // a detector failed on this value: mask it rather than pass it
    }
  }

  @Override
  public boolean scrubErrors() {
    return scrubErrors;
  }

  @Override
  public String scrubText(String text) {
    if (session == null) {
      return text;
    }
    try {
      return session.scrubText(text);
    } catch (RuntimeException e) {
      return WITHHELD;
    }
  }

  @Override
  public String toString() {
    if (session == null) {
      return "StatementResultMasking[exempt]";
    }
    return "StatementResultMasking[map "
        + (basis == null ? "none" : basis.version())
        + ", computed "
        + (computed == null ? "clear" : computed.strategy())
        + (scrubErrors ? ", scrub errors" : "")
        + "]";
  }
}
