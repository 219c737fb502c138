package dev.warden.core.masking;

import dev.warden.core.identity.Identity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The masking section of a policy: whether masking is on, who is exempt (and where, and until
 * when), which strategy masks each kind of data, which columns policy marks or unmarks, which
 * detectors it adds, and whether inference through predicates on masked columns is refused.
 * Immutable and thread-safe.
 *
 * <p>{@link #forSession} runs for every statement on the proxy's event loops, so everything it
 * needs is computed here once: exemptions indexed by identity and group, one {@link ColumnMask} per
 * kind, the detector list; overlays of a data map are cached by the map's version.
 *
 * <p>The keyed strategies ({@code pseudonym}, {@code format_preserving}) need the server's secret,
 * given with {@link #withPseudonymKey}; rules without one redact instead (fail closed), which
 * {@link #keyed()} and each mask's {@link ColumnMask#strategy()} ({@code redact}) make visible.
 */
public final class MaskingRules {
  /** An exemption by identity or by group, optionally from and until an instant, in some places. */
  public record Exemption(
      Optional<String> identity,
      Optional<String> group,
      Optional<Instant> from,
      Optional<Instant> until,
      Set<String> environments) {
    public Exemption {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(group, "group");
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(until, "until");
      environments = Set.copyOf(environments);
      if (identity.isPresent() == group.isPresent()) {
        throw new IllegalArgumentException("an exemption names an identity or a group, not both");
      }
      if (from.isPresent() && until.isPresent() && !from.get().isBefore(until.get())) {
        throw new IllegalArgumentException("an exemption's 'from' must be before its 'until'");
      }
    }

    /** Everywhere and for good: {@code identity} sees data unmasked. */
    public static Exemption identity(String identity) {
      return new Exemption(
          Optional.of(identity), Optional.empty(), Optional.empty(), Optional.empty(), Set.of());
    }

    /** Everywhere and for good: members of {@code group} see data unmasked. */
    public static Exemption group(String group) {
      return new Exemption(
          Optional.empty(), Optional.of(group), Optional.empty(), Optional.empty(), Set.of());
    }

    /** This exemption, ending at {@code until}. */
    public Exemption until(Instant until) {
      return new Exemption(identity, group, from, Optional.of(until), environments);
    }

    /** This exemption, starting at {@code from}. */
    public Exemption from(Instant from) {
      return new Exemption(identity, group, Optional.of(from), until, environments);
    }

    /** This exemption, only in environments named or tagged as one of {@code environments}. */
    public Exemption in(Set<String> environments) {
      return new Exemption(identity, group, from, until, environments);
    }

    /** True in an environment named, or tagged, as one listed; everywhere when none is listed. */
    public boolean appliesIn(String environment, Set<String> tags) {
      if (environments.isEmpty() || environments.contains(environment)) {
        return true;
      }
      for (String tag : tags) {
        if (environments.contains(tag)) {
          return true;
        }
      }
      return false;
    }

    /** True from {@code from} (inclusive) until {@code until} (exclusive). */
    public boolean activeAt(Instant now) {
      return (from.isEmpty() || !now.isBefore(from.get()))
          && (until.isEmpty() || now.isBefore(until.get()));
    }
  }

  /**
   * Policy marking a column as holding data of a kind, or (with an empty kind) unmarking it, for
   * one environment and database or for all.
   *
   * @param schema the column's schema, or empty for the table of that name in any schema
   * @param table the table (or view) name as the database stores it
   * @param column the column name as the database stores it
   * @param kind the kind of data it holds, or empty: it holds nothing sensitive
   */
  public record ColumnOverride(
      Optional<String> schema,
      String table,
      String column,
      Optional<DataKind> kind,
      Optional<String> environment,
      Optional<String> database) {
    public ColumnOverride {
      Objects.requireNonNull(schema, "schema");
      Objects.requireNonNull(table, "table");
      Objects.requireNonNull(column, "column");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(environment, "environment");
      Objects.requireNonNull(database, "database");
    }

    /**
     * An override of the column {@code path} names: {@code [schema.]table.column}, each part bare
     * or in double quotes ({@code "Odd.Name"}, {@code ""} for a quote inside).
     *
     * @throws IllegalArgumentException when {@code path} is not of that form
     */
    public static ColumnOverride of(
        String path,
        Optional<DataKind> kind,
        Optional<String> environment,
        Optional<String> database) {
      List<String> parts = splitPath(path);
      if (parts.size() == 2) {
        return new ColumnOverride(
            Optional.empty(), parts.get(0), parts.get(1), kind, environment, database);
      }
      if (parts.size() == 3) {
        return new ColumnOverride(
            Optional.of(parts.get(0)), parts.get(1), parts.get(2), kind, environment, database);
      }
      throw new IllegalArgumentException(
          "a column is named [schema.]table.column, e.g. public.users.email");
    }

    /** True for {@code map}'s environment and database. */
    public boolean appliesTo(DataMap map) {
      return environment.map(map.environment()::equals).orElse(true)
          && database.map(map.database()::equals).orElse(true);
    }

    boolean names(MappedRelation relation, MappedColumn c) {
      return relation.name().equals(table)
          && c.name().equals(column)
          && schema.map(relation.schema()::equals).orElse(true);
    }

    /** The column as the policy file spells it. */
    public String path() {
      return schema.map(s -> quoted(s) + ".").orElse("") + quoted(table) + "." + quoted(column);
    }

    private static String quoted(String name) {
      boolean plain = !name.isEmpty();
      for (int i = 0; i < name.length() && plain; i++) {
        char c = name.charAt(i);
        plain = Text.isLower(c) || Text.isDigit(c) || c == '_' || c == '$';
      }
      return plain ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static List<String> splitPath(String path) {
      List<String> parts = new ArrayList<>(3);
      StringBuilder part = new StringBuilder();
      int i = 0;
      int n = path.length();
      while (i <= n) {
        if (i < n && path.charAt(i) == '"') {
          int j = i + 1;
          while (true) {
            if (j >= n) {
              return List.of();
            }
            if (path.charAt(j) == '"') {
              if (j + 1 < n && path.charAt(j + 1) == '"') {
                part.append('"');
                j += 2;
                continue;
              }
              break;
            }
            part.append(path.charAt(j++));
          }
          i = j + 1;
          if (i < n && path.charAt(i) != '.') {
            return List.of();
          }
        } else {
          while (i < n && path.charAt(i) != '.' && path.charAt(i) != '"') {
            part.append(path.charAt(i++));
          }
          if (i < n && path.charAt(i) == '"') {
            return List.of();
          }
        }
        String name = part.toString();
        if (name.isEmpty() || !name.strip().equals(name)) {
          return List.of();
        }
        parts.add(name);
        part.setLength(0);
        i++;
      }
      return parts;
    }
  }

  private static final Map<DataKind, MaskingStrategy> DEFAULT_STRATEGIES = defaultStrategies();

  /**
   * The order detectors are asked in, where a value may fit two (a US SSN also reads as a phone
   * number): the stricter formats first, phone numbers, the loosest, last, so that the backstop and
   * scrubbing mask a value by its most specific kind.
   */
  private static final List<DataKind> PRECEDENCE =
      List.of(
          DataKind.PRIVATE_KEY,
          DataKind.JWT,
          DataKind.API_TOKEN,
          DataKind.PASSWORD_HASH,
          DataKind.EMAIL,
          DataKind.PAYMENT_CARD,
          DataKind.IBAN,
          DataKind.NATIONAL_ID,
          DataKind.IP_ADDRESS,
          DataKind.PHONE);

  private static final MaskingRules DEFAULTS = builder().build();

  /** Overlays kept; past it the cache starts over. */
  private static final int OVERLAY_CACHE_LIMIT = 256;

  private final boolean enabled;
  private final boolean denyInference;
  private final Map<DataKind, MaskingStrategy> strategies;
  private final MaskingStrategy unknownStrategy;
  private final List<Exemption> exemptions;
  private final List<ColumnOverride> columns;
  private final List<PatternDetector> customDetectors;
  private final MaskingKey key;

  private final List<ContentDetector> detectors;
  private final Map<DataKind, ColumnMask> masks;
  private final ColumnMask unknownMask;
  private final Map<String, List<Exemption>> byIdentity;
  private final Map<String, List<Exemption>> byGroup;
  private final Optional<SessionMasking> always;
  private final long fingerprint;
  private final Map<List<String>, Overlaid> overlays = new ConcurrentHashMap<>();

  private record Overlaid(DataMap input, DataMap output) {}

  private MaskingRules(Builder b, MaskingKey key) {
    this.enabled = b.enabled;
    this.denyInference = b.denyInference;
    this.strategies = Collections.unmodifiableMap(new EnumMap<>(b.strategies));
    this.unknownStrategy = b.unknownStrategy;
    this.exemptions = List.copyOf(b.exemptions);
    this.columns = List.copyOf(b.columns);
    this.customDetectors = List.copyOf(b.detectors);
    this.key = key;
    List<ContentDetector> all = new ArrayList<>(Detectors.standard());
    all.sort(java.util.Comparator.comparingInt(d -> PRECEDENCE.indexOf(d.kind())));
    all.addAll(customDetectors);
    this.detectors = List.copyOf(all);
    Map<DataKind, ColumnMask> m = new EnumMap<>(DataKind.class);
    for (DataKind kind : DataKind.values()) {
      m.put(kind, new StrategyMask(Optional.of(kind), strategies.get(kind), key));
    }
    this.masks = Collections.unmodifiableMap(m);
    this.unknownMask = new StrategyMask(Optional.empty(), unknownStrategy, key);
    Map<String, List<Exemption>> ids = new HashMap<>();
    Map<String, List<Exemption>> groups = new HashMap<>();
    for (Exemption e : exemptions) {
      e.identity().ifPresent(id -> ids.computeIfAbsent(id, x -> new ArrayList<>()).add(e));
      e.group().ifPresent(g -> groups.computeIfAbsent(g, x -> new ArrayList<>()).add(e));
    }
    ids.replaceAll((k, v) -> List.copyOf(v));
    groups.replaceAll((k, v) -> List.copyOf(v));
    this.byIdentity = Map.copyOf(ids);
    this.byGroup = Map.copyOf(groups);
    this.always = Optional.of(new IdentityMasking(this, Optional.empty()));
    this.fingerprint = computeFingerprint();
  }

  /** The rules of a policy without a masking section: on for everyone, default strategies. */
  public static MaskingRules defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The strategy each kind gets when policy does not choose one. */
  public static MaskingStrategy defaultStrategy(DataKind kind) {
    return DEFAULT_STRATEGIES.get(kind);
  }

  private static Map<DataKind, MaskingStrategy> defaultStrategies() {
    Map<DataKind, MaskingStrategy> m = new EnumMap<>(DataKind.class);
    for (DataKind kind : DataKind.values()) {
      m.put(kind, MaskingStrategy.REDACT);
    }
    m.put(DataKind.EMAIL, MaskingStrategy.PARTIAL);
    m.put(DataKind.PHONE, MaskingStrategy.PARTIAL);
    m.put(DataKind.PAYMENT_CARD, MaskingStrategy.PARTIAL);
    m.put(DataKind.IBAN, MaskingStrategy.PARTIAL);
    m.put(DataKind.DATE_OF_BIRTH, MaskingStrategy.PARTIAL);
    m.put(DataKind.PASSWORD, MaskingStrategy.NULL);
    return Collections.unmodifiableMap(m);
  }

  /** The name a policy file gives {@code kind}, e.g. {@code payment_card}. */
  public static String kindName(DataKind kind) {
    return kind.name().toLowerCase(Locale.ROOT);
  }

  /** The kind a policy file names, if it names one. */
  public static Optional<DataKind> kindNamed(String name) {
    for (DataKind kind : DataKind.values()) {
      if (kindName(kind).equals(name)) {
        return Optional.of(kind);
      }
    }
    return Optional.empty();
  }

  /**
   * These rules with the server's masking secret, which the keyed strategies derive their keys from
   * (at least 16 bytes; the server keeps 32 random bytes).
   *
   * @throws IllegalArgumentException when the secret is shorter than 16 bytes
   */
  public MaskingRules withPseudonymKey(byte[] secret) {
    Builder b = toBuilder();
    return new MaskingRules(b, MaskingKey.of(secret));
  }

  /** True when a masking key is set; without one the keyed strategies redact. */
  public boolean keyed() {
    return key != null;
  }

  /**
   * The masking that applies to {@code identity} in {@code environment} at {@code now}: empty when
   * masking is off or the identity is exempt there and then. Cheap: a few hash lookups.
   *
   * @param environmentTags the environment's tags; an exemption's {@code environments} match names
   *     and tags
   */
  public Optional<SessionMasking> forSession(
      Identity identity, String environment, Set<String> environmentTags, Instant now) {
    if (!enabled) {
      return Optional.empty();
    }
    if (exemptions.isEmpty()) {
      return always;
    }
    Instant next = null;
    for (Exemption e : relevant(identity)) {
      if (!e.appliesIn(environment, environmentTags)) {
        continue;
      }
      if (e.activeAt(now)) {
        return Optional.empty();
      }
      if (e.from().isPresent() && e.from().get().isAfter(now)) {
        next = next == null || e.from().get().isBefore(next) ? e.from().get() : next;
      }
    }
    return next == null ? always : Optional.of(new IdentityMasking(this, Optional.of(next)));
  }

  /**
   * When {@link #forSession}'s answer for these arguments may next change: the earliest start or
   * end of an exemption of the identity, in that environment, after {@code now}; empty when it
   * never changes (until policy is reloaded). A decision that is empty because the identity is
   * exempt must not be reused past this instant.
   */
  public Optional<Instant> validUntil(
      Identity identity, String environment, Set<String> environmentTags, Instant now) {
    if (!enabled || exemptions.isEmpty()) {
      return Optional.empty();
    }
    Instant next = null;
    for (Exemption e : relevant(identity)) {
      if (!e.appliesIn(environment, environmentTags)) {
        continue;
      }
      for (Optional<Instant> boundary : List.of(e.from(), e.until())) {
        if (boundary.isPresent()
            && boundary.get().isAfter(now)
            && (next == null || boundary.get().isBefore(next))) {
          next = boundary.get();
        }
      }
    }
    return Optional.ofNullable(next);
  }

  private List<Exemption> relevant(Identity identity) {
    List<Exemption> byName = byIdentity.getOrDefault(identity.name(), List.of());
    if (byGroup.isEmpty() || identity.groups().isEmpty()) {
      return byName;
    }
    List<Exemption> all = null;
    for (String group : identity.groups()) {
      List<Exemption> g = byGroup.get(group);
      if (g != null) {
        if (all == null) {
          all = new ArrayList<>(byName);
        }
        all.addAll(g);
      }
    }
    return all == null ? byName : all;
  }

  /** Whether masking is on at all. */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Whether results in {@code environment} are masked for identities that are not exempt. Masking
   * is switched per policy (an environment with a different need has its own policy file); kept per
   * environment so that callers need not change if that becomes finer.
   */
  public boolean enabledFor(String environment) {
    return enabled;
  }

  /** Whether filtering, sorting, grouping or joining on masked columns is refused. */
  public boolean denyInference() {
    return denyInference;
  }

  /** The strategy for {@code kind}. */
  public MaskingStrategy strategy(DataKind kind) {
    return strategies.get(kind);
  }

  /** The strategy for computed columns fed by sensitive columns, whose kind is unknown. */
  public MaskingStrategy unknownStrategy() {
    return unknownStrategy;
  }

  public List<Exemption> exemptions() {
    return exemptions;
  }

  public List<ColumnOverride> columns() {
    return columns;
  }

  /** The detectors policy adds, in file order. */
  public List<PatternDetector> customDetectors() {
    return customDetectors;
  }

  /**
   * The content detectors: the standard ones (most specific kind first, phone numbers last), then
   * those policy adds, in file order.
   */
  public List<ContentDetector> detectors() {
    return detectors;
  }

  /** The mask for {@code kind}; empty kind: data of unknown kind. */
  ColumnMask mask(Optional<DataKind> kind) {
    return kind.isPresent() ? masks.get(kind.get()) : unknownMask;
  }

  ColumnMask mask(DataKind kind) {
    return masks.get(kind);
  }

  /**
   * {@code map} with the column overrides for its environment and database applied: a marked column
   * gets the override's kind, an unmarked one loses its kind, both with {@link Finding#POLICY}.
   * Identity-independent; cached by the map's environment, database and version.
   */
  public DataMap overlay(DataMap map) {
    if (columns.isEmpty()) {
      return map;
    }
    List<String> key = List.of(map.environment(), map.database());
    Overlaid cached = overlays.get(key);
    if (cached != null && cached.input() == map) {
      return cached.output();
    }
    DataMap result = applyOverrides(map);
    if (overlays.size() >= OVERLAY_CACHE_LIMIT) {
      overlays.clear();
    }
    overlays.put(key, new Overlaid(map, result));
    return result;
  }

  private DataMap applyOverrides(DataMap map) {
    Map<String, List<ColumnOverride>> byTable = new HashMap<>();
    for (ColumnOverride o : columns) {
      if (o.appliesTo(map)) {
        byTable.computeIfAbsent(o.table(), t -> new ArrayList<>()).add(o);
      }
    }
    if (byTable.isEmpty()) {
      return map;
    }
    List<MappedRelation> relations = new ArrayList<>(map.relations().size());
    boolean changed = false;
    for (MappedRelation r : map.relations()) {
      List<ColumnOverride> candidates = byTable.get(r.name());
      if (candidates == null) {
        relations.add(r);
        continue;
      }
      List<MappedColumn> cols = new ArrayList<>(r.columns().size());
      boolean relationChanged = false;
      for (MappedColumn c : r.columns()) {
        ColumnOverride last = null;
        for (ColumnOverride o : candidates) {
          if (o.names(r, c)) {
            last = o;
          }
        }
        if (last == null) {
          cols.add(c);
          continue;
        }
        String detail =
            last.kind()
                .map(k -> "marked " + kindName(k) + " by policy")
                .orElse("unmarked by policy");
        cols.add(
            new MappedColumn(c.number(), c.name(), c.type(), last.kind(), Finding.POLICY, detail));
        relationChanged = true;
      }
      relations.add(
          relationChanged ? new MappedRelation(r.id(), r.schema(), r.name(), r.type(), cols) : r);
      changed |= relationChanged;
    }
    if (!changed) {
      return map;
    }
    return DataMap.of(map.environment(), map.database(), map.version(), map.builtAt(), relations);
  }

  /**
   * A fingerprint of the rules, equal for equal rules (the key aside: it is not policy), so that a
   * policy's version changes when its masking section does.
   */
  public long fingerprint() {
    return fingerprint;
  }

  private long computeFingerprint() {
    StringBuilder text = new StringBuilder();
    field(text, Boolean.toString(enabled));
    field(text, Boolean.toString(denyInference));
    for (DataKind kind : DataKind.values()) {
      field(text, kindName(kind) + "=" + strategies.get(kind).fileName());
    }
    field(text, unknownStrategy.fileName());
    for (Exemption e : exemptions) {
      field(text, "exempt");
      field(text, e.identity().orElse(""));
      field(text, e.group().orElse(""));
      field(text, e.from().map(Instant::toString).orElse(""));
      field(text, e.until().map(Instant::toString).orElse(""));
      field(text, String.join("\0", e.environments().stream().sorted().toList()));
    }
    for (ColumnOverride c : columns) {
      field(text, "column");
      field(text, c.path());
      field(text, c.kind().map(MaskingRules::kindName).orElse("none"));
      field(text, c.environment().orElse(""));
      field(text, c.database().orElse(""));
    }
    for (PatternDetector d : customDetectors) {
      field(text, "detector");
      field(text, d.name());
      field(text, kindName(d.kind()));
      field(text, d.pattern());
    }
    byte[] digest;
    try {
      digest =
          MessageDigest.getInstance("SHA-256")
              .digest(text.toString().getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (digest[i] & 0xff);
    }
    return v;
  }

  private static void field(StringBuilder text, String value) {
    // Lengths first, so that no two different rule sets give the same text.
    text.append(value.length()).append(':').append(value);
  }

  /** A builder holding these rules (without the key). */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.enabled = enabled;
    b.denyInference = denyInference;
    b.strategies.putAll(strategies);
    b.unknownStrategy = unknownStrategy;
    b.exemptions.addAll(exemptions);
    b.columns.addAll(columns);
    b.detectors.addAll(customDetectors);
    return b;
  }

  /** Equal configuration and equal key (or both without one). */
  @Override
  public boolean equals(Object o) {
    return o instanceof MaskingRules r
        && r.enabled == enabled
        && r.denyInference == denyInference
        && r.strategies.equals(strategies)
        && r.unknownStrategy == unknownStrategy
        && r.exemptions.equals(exemptions)
        && r.columns.equals(columns)
        && r.customDetectors.equals(customDetectors)
        && Objects.equals(r.key, key);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(fingerprint);
  }

  @Override
  public String toString() {
    return "MaskingRules["
        + (enabled ? "on" : "off")
        + ", "
        + exemptions.size()
        + " exemptions, "
        + columns.size()
        + " column overrides, "
        + customDetectors.size()
        + " custom detectors"
        + (denyInference ? ", inference denied" : "")
        + (key == null ? ", no key" : ", keyed")
        + "]";
  }

  /** Collects masking rules; starts from the defaults. Not thread-safe. */
  public static final class Builder {
    private boolean enabled = true;
    private boolean denyInference;
    private final Map<DataKind, MaskingStrategy> strategies = new EnumMap<>(DEFAULT_STRATEGIES);
    private MaskingStrategy unknownStrategy = MaskingStrategy.REDACT;
    private final List<Exemption> exemptions = new ArrayList<>();
    private final List<ColumnOverride> columns = new ArrayList<>();
    private final List<PatternDetector> detectors = new ArrayList<>();

    private Builder() {}

    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    public Builder denyInference(boolean denyInference) {
      this.denyInference = denyInference;
      return this;
    }

    public Builder strategy(DataKind kind, MaskingStrategy strategy) {
      strategies.put(Objects.requireNonNull(kind), Objects.requireNonNull(strategy));
      return this;
    }

    /** The strategy for computed columns of unknown kind. */
    public Builder unknownStrategy(MaskingStrategy strategy) {
      this.unknownStrategy = Objects.requireNonNull(strategy);
      return this;
    }

    public Builder exempt(Exemption exemption) {
      exemptions.add(Objects.requireNonNull(exemption));
      return this;
    }

    /** Adds a column override; a later one for the same column wins over an earlier one. */
    public Builder column(ColumnOverride override) {
      columns.add(Objects.requireNonNull(override));
      return this;
    }

    public Builder detector(PatternDetector detector) {
      detectors.add(Objects.requireNonNull(detector));
      return this;
    }

    public MaskingRules build() {
      return new MaskingRules(this, null);
    }
  }
}
