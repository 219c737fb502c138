package dev.warden.sql.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Walks a (part of a) parse tree and records into {@link Facts} what it reads, writes and calls:
 * relations with their aliases and CTE names resolved, columns, functions and the flags they imply,
 * and the WHERE clauses of UPDATE and DELETE wherever they occur (also inside CTEs).
 *
 * <p>Relations met outside a query (the target of CREATE, ALTER, GRANT, ...) count as written.
 *
 * <p>Every column reference is also sorted by how its value is used, for masking (see {@link
 * dev.warden.core.statement.Statement#columnsComputed()} and {@code columnsFiltered()}): the walk
 * carries two flags down the tree. <em>Computed</em> is set inside expressions, function calls,
 * subqueries and CTEs in FROM, set operation branches, INSERT sources, VALUES, SET and ON CONFLICT
 * expressions and function arguments in FROM; only a bare column in the target list (or RETURNING
 * list) of the outermost statement stays uncomputed, since the database reports where it comes
 * from. <em>Filtered</em> is set in WHERE, JOIN ON and USING, GROUP BY, HAVING, ORDER BY, DISTINCT
 * ON, window definitions, an aggregate's ORDER BY and FILTER, LIMIT and OFFSET; it clears computed,
 * since a value used to filter does not itself reach a result. A nested query takes the flags of
 * where it is (a scalar subquery in a target list is computed, one in WHERE filtered). Whole-row
 * references ({@code SELECT u FROM users u}) are always computed, as the relation's {@code *}; JOIN
 * USING columns and both sides of a NATURAL join are computed and filtered (a merged column of a
 * FULL join, or one with a type coercion, has no origin). The ON CONFLICT {@code excluded} row is
 * the INSERT's own and is not computed. This matches what PostgreSQL 15 reports in RowDescription:
 * a table OID and column number for a bare column of the outermost target or RETURNING list (and
 * column 0 for a whole row), none for anything else.
 *
 * <p>Names are resolved per query level: an alias of a table is that table; a column of a subquery,
 * a CTE or a function in FROM is attributed where its value comes from, inside that subquery or CTE
 * (whose targets are computed), and not again where the outer query names it; a column of an
 * aliased join ({@code (a JOIN b) AS j}) is that column of either side, with an empty table name; a
 * column reached through an alias that renames columns ({@code users AS t(a, b)}) is the table's
 * {@code *}; a column with no qualifier is the one table's in scope, or one with an empty table
 * name when several relations are in scope.
 */
final class QueryWalker {
  private static final TableRef AMBIGUOUS = new TableRef("", "");

  /**
   * A read of a {@code warden.*} setting by a constant name, the one mention of the name that code
   * is allowed: {@code current_setting('warden.identity')}, optionally with {@code missing_ok}.
   */
  private static final Pattern IDENTITY_SETTING_READ =
      Pattern.compile(
          "current_setting\\s*\\(\\s*'warden\\.[a-z0-9_$.]*'\\s*(?:,\\s*(?:true|false)\\s*)?\\)",
          Pattern.CASE_INSENSITIVE);

  /**
   * The word {@code warden} as an identifier of its own (not part of {@code wardens} or {@code
   * my_warden}), or a Unicode-escaped identifier ({@code U&"..."}), which can spell any name.
   */
  private static final Pattern IDENTITY_SETTING_WORD =
      Pattern.compile(
          "(?<![\\p{L}\\p{N}_$])warden(?![\\p{L}\\p{N}_$])|u&\"", Pattern.CASE_INSENSITIVE);

  /**
   * A relation in a FROM list: a table, or something derived (subquery, CTE, function).
   *
   * @param join an aliased join: its columns are those of either side
   * @param renamed its alias renames columns ({@code users AS t(a, b)}): a name then says nothing
   *     about which column it is, so a reference through it stands for every column
   */
  private record Rel(String name, Optional<TableRef> table, boolean join, boolean renamed) {
    Rel(String name, Optional<TableRef> table) {
      this(name, table, false, false);
    }
  }

  /** The relations one query level can see. */
  private static final class Scope {
    final List<Rel> rels = new ArrayList<>();
    final Map<String, Rel> byName = new HashMap<>();

    void add(Rel rel) {
      rels.add(rel);
      byName.put(rel.name(), rel);
    }
  }

  private final Facts facts;
  private final Constants constants;
  private final WhereEvaluator where;
  private final Deque<Scope> scopes = new ArrayDeque<>();
  private final Deque<Set<String>> ctes = new ArrayDeque<>();

  /** Column references met now can flow into a result column that has no origin. */
  private boolean computed;

  /** Column references met now filter, join, group, order or limit. */
  private boolean filtered;

  /** The next query met is the outermost one: its bare targets keep their origin. */
  private boolean top = true;

  /**
   * The {@code excluded} row of the ON CONFLICT clause being walked: the row the INSERT proposed,
   * whose values come from the INSERT's own source (computed there), not from stored rows.
   */
  private Rel excluded;

  QueryWalker(Facts facts, Constants constants) {
    this.facts = facts;
    this.constants = constants;
    this.where = new WhereEvaluator(constants);
  }

  /** Any node: a wrapped node ({@code {"Type": {...}}}), a list, a plain struct or a scalar. */
  void node(JsonNode node) {
    if (node == null) {
      return;
    }
    if (node.isArray()) {
      for (JsonNode child : node) {
        node(child);
      }
      return;
    }
    if (!node.isObject()) {
      return;
    }
    if (node.has("relname") && node.has("relpersistence")) {
      facts.tablesWritten.add(table(node)); // a relation named outside a query: its target
      return;
    }
    if (node.path("kind").asText().startsWith("VAR_")) {
      setting(node); // a VariableSetStmt held by ALTER ROLE/DATABASE/SYSTEM ... SET
      return;
    }
    if (node.size() == 1) {
      var entry = node.properties().iterator().next();
      String key = entry.getKey();
      if (!key.isEmpty() && Character.isUpperCase(key.charAt(0)) && entry.getValue().isObject()) {
        typed(key, entry.getValue());
        return;
      }
    }
    for (JsonNode child : node) {
      node(child);
    }
  }

  private void typed(String type, JsonNode body) {
    switch (type) {
      case "SelectStmt" -> select(body);
      case "InsertStmt" -> insert(body);
      case "UpdateStmt" -> update(body);
      case "DeleteStmt" -> delete(body);
      case "MergeStmt" -> merge(body);
      case "FuncCall" -> function(body);
      case "ColumnRef" -> column(body);
      case "RangeVar" -> facts.tablesWritten.add(table(body));
      case "VariableSetStmt" -> setting(body);
      case "A_Const" -> {
        // a value: read only where a fact depends on it
      }
      default -> {
        for (JsonNode child : body) {
          node(child);
        }
      }
    }
  }

  // ---- queries

  void select(JsonNode s) {
    boolean outermost = top;
    top = false;
    boolean pushedCtes = with(s.get("withClause"));
    if (!s.path("op").asText("SETOP_NONE").equals("SETOP_NONE")) {
      boolean was = computed;
      computed = true; // a set operation's columns have no origin
      select(s.path("larg"));
      select(s.path("rarg"));
      computed = was;
      scopes.push(new Scope());
      filtering(s.get("sortClause"));
      filtering(s.get("limitOffset"));
      filtering(s.get("limitCount"));
      scopes.pop();
      popCtes(pushedCtes);
      return;
    }
    Scope scope = new Scope();
    scopes.push(scope);
    for (JsonNode item : s.path("fromClause")) {
      from(item, scope);
    }
    filtering(s.get("distinctClause"));
    targets(s.get("targetList"), outermost);
    filtering(s.get("whereClause"));
    filtering(s.get("groupClause"));
    filtering(s.get("havingClause"));
    filtering(s.get("windowClause"));
    computing(s.get("valuesLists"));
    filtering(s.get("sortClause"));
    filtering(s.get("limitOffset"));
    filtering(s.get("limitCount"));
    if (s.has("lockingClause")) {
      facts.flags.add(StatementFlag.LOCKS);
    }
    JsonNode into = s.get("intoClause");
    if (into != null && into.has("rel")) {
      facts.tablesWritten.add(table(into.get("rel")));
      facts.writes = true;
    }
    scopes.pop();
    popCtes(pushedCtes);
  }

  /** Walks a query whose columns are computed (a subquery, a CTE, an INSERT's source). */
  private void query(JsonNode wrapped) {
    computing(wrapped);
  }

  /**
   * Walks a target or RETURNING list. In the outermost statement a bare column reference keeps the
   * flags it has (the database reports its origin) and everything else is computed; in a nested
   * query the targets take the flags of where the query is (computed in FROM, a CTE or an
   * expression, filtered in a condition).
   */
  private void targets(JsonNode list, boolean outermost) {
    if (list == null) {
      return;
    }
    for (JsonNode item : list) {
      JsonNode val = item.path("ResTarget").get("val");
      if (!outermost || (val != null && val.has("ColumnRef"))) {
        node(item);
      } else {
        computing(item);
      }
    }
  }

  /** Walks {@code n} with its column references computed. */
  private void computing(JsonNode n) {
    if (n == null) {
      return;
    }
    boolean was = computed;
    computed = true;
    node(n);
    computed = was;
  }

  /** Walks {@code n} (a condition, a sort or grouping key) with its column references filtered. */
  private void filtering(JsonNode n) {
    if (n == null) {
      return;
    }
    boolean wasComputed = computed;
    boolean wasFiltered = filtered;
    computed = false;
    filtered = true;
    node(n);
    computed = wasComputed;
    filtered = wasFiltered;
  }

  private boolean with(JsonNode with) {
    if (with == null) {
      return false;
    }
    Set<String> names = new HashSet<>();
    ctes.push(names);
    boolean recursive = with.path("recursive").asBoolean(false);
    if (recursive) {
      for (JsonNode cte : with.path("ctes")) {
        names.add(cte.path("CommonTableExpr").path("ctename").asText());
      }
    }
    for (JsonNode cte : with.path("ctes")) {
      JsonNode body = cte.path("CommonTableExpr");
      query(body.get("ctequery"));
      // a non-recursive CTE's own name inside its body still means the table of that name
      names.add(body.path("ctename").asText());
    }
    return true;
  }

  private void popCtes(boolean pushed) {
    if (pushed) {
      ctes.pop();
    }
  }

  private boolean isCte(JsonNode rangeVar) {
    if (rangeVar.has("schemaname")) {
      return false;
    }
    String name = rangeVar.path("relname").asText();
    for (Set<String> frame : ctes) {
      if (frame.contains(name)) {
        return true;
      }
    }
    return false;
  }

  private void from(JsonNode item, Scope scope) {
    if (item == null || !item.isObject() || item.size() != 1) {
      node(item);
      return;
    }
    var entry = item.properties().iterator().next();
    JsonNode body = entry.getValue();
    String alias = body.path("alias").path("aliasname").asText("");
    switch (entry.getKey()) {
      case "RangeVar" -> {
        String name = alias.isEmpty() ? body.path("relname").asText() : alias;
        if (isCte(body)) {
          scope.add(new Rel(name, Optional.empty()));
        } else {
          TableRef t = table(body);
          facts.tablesRead.add(t);
          scope.add(new Rel(name, Optional.of(t), false, renames(body)));
        }
      }
      case "RangeSubselect" -> {
        query(body.get("subquery"));
        scope.add(new Rel(alias, Optional.empty()));
      }
      case "RangeFunction" -> {
        computing(body.get("functions"));
        scope.add(new Rel(alias, Optional.empty()));
      }
      case "JoinExpr" -> {
        int first = scope.rels.size();
        from(body.get("larg"), scope);
        from(body.get("rarg"), scope);
        join(scope.rels.subList(first, scope.rels.size()), body);
        filtering(body.get("quals"));
        if (!alias.isEmpty()) {
          // (a JOIN b) AS j: j.x is a column of a or of b
          scope.add(new Rel(alias, Optional.empty(), true, renames(body)));
        }
      }
      case "RangeTableSample" -> {
        from(body.get("relation"), scope);
        filtering(body.get("args"));
        filtering(body.get("repeatable"));
      }
      default -> {
        computing(body);
        if (!alias.isEmpty()) {
          scope.add(new Rel(alias, Optional.empty()));
        }
      }
    }
  }

  /**
   * The columns a join matches on without naming their relation: USING's columns in each joined
   * table that can have them, every column of both sides of a NATURAL join. They are filtered, and
   * computed too, since the merged column in {@code SELECT *} has no origin when it is a FULL
   * join's or needs a type coercion.
   */
  private void join(List<Rel> joined, JsonNode body) {
    List<TableRef> tables = new ArrayList<>();
    for (Rel rel : joined) {
      rel.table().ifPresent(tables::add);
    }
    boolean wasComputed = computed;
    boolean wasFiltered = filtered;
    computed = true;
    filtered = true;
    for (JsonNode using : body.path("usingClause")) {
      String column = using.path("String").path("sval").asText();
      for (TableRef t : tables) {
        read(t, column); // a subquery's or function's own column is attributed inside it
      }
    }
    if (body.path("isNatural").asBoolean(false)) {
      for (TableRef t : tables) {
        read(t, "*");
      }
    }
    computed = wasComputed;
    filtered = wasFiltered;
  }

  /** Whether a FROM item's alias renames its columns ({@code AS t(a, b)}). */
  private static boolean renames(JsonNode body) {
    return body.path("alias").path("colnames").size() > 0;
  }

  /**
   * Walks {@code node} (a condition, a column list) with {@code table} as the one relation in
   * scope.
   */
  void on(TableRef table, JsonNode node) {
    Scope scope = new Scope();
    scope.add(new Rel(table.name(), Optional.of(table)));
    scopes.push(scope);
    node(node);
    scopes.pop();
  }

  // ---- data-modifying statements

  private Scope target(JsonNode relation) {
    Scope scope = new Scope();
    TableRef t = table(relation);
    facts.tablesWritten.add(t);
    facts.writes = true;
    if (t.name().equals("pg_settings")) {
      // UPDATE pg_settings SET setting = ... calls set_config through the view's rule
      facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
    }
    String alias = relation.path("alias").path("aliasname").asText("");
    scope.add(new Rel(alias.isEmpty() ? t.name() : alias, Optional.of(t)));
    return scope;
  }

  private void insert(JsonNode s) {
    boolean outermost = top;
    top = false;
    boolean pushedCtes = with(s.get("withClause"));
    JsonNode relation = s.path("relation");
    Scope scope = target(relation);
    TableRef t = table(relation);
    if (s.has("cols")) {
      for (JsonNode col : s.path("cols")) {
        facts.columnsWritten.add(new ColumnRef(t, col.path("ResTarget").path("name").asText()));
        computing(col.path("ResTarget").get("indirection"));
      }
    } else {
      facts.columnsWritten.add(new ColumnRef(t, "*"));
    }
    query(s.get("selectStmt"));
    JsonNode conflict = s.get("onConflictClause");
    scopes.push(scope);
    if (conflict != null) {
      excluded = new Rel("excluded", Optional.of(t));
      scope.add(excluded);
      filtering(conflict.get("infer"));
      assignments(t, conflict.path("targetList"));
      filtering(conflict.get("whereClause"));
      excluded = null;
    }
    targets(s.get("returningList"), outermost);
    scopes.pop();
    popCtes(pushedCtes);
  }

  private void update(JsonNode s) {
    boolean outermost = top;
    top = false;
    boolean pushedCtes = with(s.get("withClause"));
    Scope scope = target(s.path("relation"));
    scopes.push(scope);
    for (JsonNode item : s.path("fromClause")) {
      from(item, scope);
    }
    assignments(table(s.path("relation")), s.path("targetList"));
    condition(s.get("whereClause"));
    targets(s.get("returningList"), outermost);
    scopes.pop();
    popCtes(pushedCtes);
  }

  private void delete(JsonNode s) {
    boolean outermost = top;
    top = false;
    boolean pushedCtes = with(s.get("withClause"));
    Scope scope = target(s.path("relation"));
    scopes.push(scope);
    for (JsonNode item : s.path("usingClause")) {
      from(item, scope);
    }
    condition(s.get("whereClause"));
    targets(s.get("returningList"), outermost);
    scopes.pop();
    popCtes(pushedCtes);
  }

  private void merge(JsonNode s) {
    boolean outermost = top;
    top = false;
    boolean pushedCtes = with(s.get("withClause"));
    Scope scope = target(s.path("relation"));
    TableRef t = table(s.path("relation"));
    scopes.push(scope);
    from(s.get("sourceRelation"), scope);
    JsonNode on = s.get("joinCondition");
    filtering(on);
    boolean changesMatched = false;
    for (JsonNode when : s.path("mergeWhenClauses")) {
      JsonNode w = when.path("MergeWhenClause");
      filtering(w.get("condition"));
      String command = w.path("commandType").asText();
      if (command.equals("CMD_INSERT")) {
        if (w.has("targetList")) {
          for (JsonNode col : w.path("targetList")) {
            facts.columnsWritten.add(new ColumnRef(t, col.path("ResTarget").path("name").asText()));
          }
        } else {
          facts.columnsWritten.add(new ColumnRef(t, "*"));
        }
        computing(w.get("values"));
      } else {
        changesMatched |= w.path("matched").asBoolean(false);
        assignments(t, w.path("targetList"));
      }
    }
    if (changesMatched && on != null && where.triviallyTrue(on)) {
      facts.whereTriviallyTrue = true;
    }
    targets(s.get("returningList"), outermost);
    scopes.pop();
    popCtes(pushedCtes);
  }

  private void assignments(TableRef t, JsonNode targetList) {
    for (JsonNode target : targetList) {
      JsonNode r = target.path("ResTarget");
      facts.columnsWritten.add(new ColumnRef(t, r.path("name").asText()));
      computing(r.get("indirection"));
      computing(r.get("val"));
    }
  }

  /** The WHERE clause of an UPDATE or DELETE. */
  private void condition(JsonNode clause) {
    if (clause == null) {
      facts.hasWhere = false;
      return;
    }
    if (where.triviallyTrue(clause)) {
      facts.whereTriviallyTrue = true;
    }
    filtering(clause);
  }

  // ---- names

  /** A RangeVar body as the server resolves its name (identifiers arrive already case-folded). */
  static TableRef table(JsonNode rangeVar) {
    return new TableRef(
        rangeVar.path("schemaname").asText(""), rangeVar.path("relname").asText(""));
  }

  private void column(JsonNode body) {
    List<String> parts = new ArrayList<>();
    for (JsonNode field : body.path("fields")) {
      parts.add(field.has("A_Star") ? "*" : field.path("String").path("sval").asText());
    }
    switch (parts.size()) {
      case 0 -> {}
      case 1 -> {
        if (parts.get(0).equals("*")) {
          Scope scope = scopes.peek();
          if (scope != null) {
            for (Rel rel : scope.rels) {
              rel.table().ifPresent(t -> read(t, "*"));
            }
          }
        } else {
          bare(parts.get(0));
        }
      }
      case 2 -> qualified(parts.get(0), parts.get(1));
      default -> {
        int n = parts.size();
        read(new TableRef(parts.get(n - 3), parts.get(n - 2)), parts.get(n - 1));
      }
    }
  }

  private void qualified(String relation, String column) {
    for (Scope scope : scopes) {
      Rel rel = scope.byName.get(relation);
      if (rel != null && rel == excluded) {
        facts.columnsRead.add(new ColumnRef(rel.table().orElseThrow(), column));
        return;
      }
      if (rel != null && rel.join()) {
        read(AMBIGUOUS, rel.renamed() ? "*" : column);
        return;
      }
      if (rel != null) {
        rel.table().ifPresent(t -> read(t, rel.renamed() ? "*" : column));
        return;
      }
    }
    read(TableRef.unqualified(relation), column);
  }

  /** A column named without its relation: that relation if only one is in scope. */
  private void bare(String column) {
    List<Rel> candidates = new ArrayList<>();
    for (Scope scope : scopes) {
      candidates.addAll(scope.rels);
      Rel whole = scope.byName.get(column);
      if (whole != null) {
        // a relation's name as a column is the whole row (SELECT u FROM users u): a composite
        // value, computed wherever it appears
        whole.table().ifPresent(this::wholeRow);
        if (whole.join()) {
          wholeRow(AMBIGUOUS);
        }
      }
    }
    if (candidates.size() == 1) {
      Rel only = candidates.get(0);
      only.table().ifPresent(t -> read(t, only.renamed() ? "*" : column));
      if (only.join() && only.renamed()) {
        read(AMBIGUOUS, "*");
      }
      return;
    }
    if (candidates.stream().anyMatch(r -> r.table().isPresent()) || candidates.isEmpty()) {
      read(AMBIGUOUS, column);
    }
    for (Rel r : candidates) {
      if (r.renamed()) {
        // the name may be a renamed column of r, any of them
        if (r.table().isPresent()) {
          read(r.table().get(), "*");
        } else if (r.join()) {
          read(AMBIGUOUS, "*");
        }
      }
    }
  }

  private void read(TableRef table, String column) {
    ColumnRef ref = new ColumnRef(table, column);
    facts.columnsRead.add(ref);
    if (computed) {
      facts.columnsComputed.add(ref);
    }
    if (filtered) {
      facts.columnsFiltered.add(ref);
    }
  }

  private void wholeRow(TableRef table) {
    boolean was = computed;
    computed = true;
    read(table, "*");
    computed = was;
  }

  // ---- functions and settings

  private void function(JsonNode body) {
    List<String> names = new ArrayList<>();
    for (JsonNode part : body.path("funcname")) {
      names.add(part.path("String").path("sval").asText());
    }
    if (names.isEmpty()) {
      return;
    }
    String name = names.get(names.size() - 1);
    boolean sqlSyntax = body.path("funcformat").asText().equals("COERCE_SQL_SYNTAX");
    facts.functions.add(sqlSyntax ? name : String.join(".", names));
    FunctionCatalog.Effects effects = FunctionCatalog.effects(name);
    facts.flags.addAll(effects.flags());
    if (!sqlSyntax && !FunctionCatalog.builtin(names)) {
      facts.flags.add(StatementFlag.USER_FUNCTION);
    }
    facts.writes |= effects.writes();
    JsonNode args = body.path("args");
    if (effects.flags().contains(StatementFlag.DYNAMIC_SQL)) {
      dynamicSqlArguments(args);
    }
    if ((name.equals("nextval") || name.equals("setval")) && !args.isEmpty()) {
      sequence(args.get(0)).ifPresent(facts.tablesWritten::add);
    }
    if (name.equals("set_config")) {
      JsonNode setting = args.get(0);
      Optional<String> settingName = setting == null ? Optional.empty() : constants.string(setting);
      if (settingName.isPresent()) {
        settingChange(settingName.get().toLowerCase(Locale.ROOT), Optional.ofNullable(args.get(1)));
      } else {
        facts.flags.add(StatementFlag.ROLE_SWITCH);
        facts.flags.add(StatementFlag.CHANGES_LEXING);
        facts.flags.add(StatementFlag.READ_WRITE_ESCAPE);
        facts.flags.add(StatementFlag.CHANGES_SEARCH_PATH);
        facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
      }
    }
    node(body.get("args"));
    if (body.path("agg_within_group").asBoolean(false)) {
      // an ordered-set aggregate (percentile_disc(0.5) WITHIN GROUP (ORDER BY x), mode()) returns
      // one of the values it orders: they are its arguments
      node(body.get("agg_order"));
    } else {
      filtering(body.get("agg_order"));
    }
    filtering(body.get("agg_filter"));
    filtering(body.get("over"));
  }

  /** The sequence a nextval/setval argument names: {@code 's'}, {@code 'sch."Seq"'::regclass}. */
  private Optional<TableRef> sequence(JsonNode arg) {
    JsonNode constant = arg.has("TypeCast") ? arg.path("TypeCast").get("arg") : arg;
    if (!Constants.isConstant(constant)) {
      return Optional.empty();
    }
    return constants.string(constant).flatMap(Names::relation);
  }

  private void setting(JsonNode body) {
    String kind = body.path("kind").asText();
    String name = body.path("name").asText("").toLowerCase(Locale.ROOT);
    switch (kind) {
      case "VAR_RESET_ALL" -> {
        facts.flags.add(StatementFlag.CHANGES_LEXING);
        facts.flags.add(StatementFlag.CHANGES_SEARCH_PATH);
      }
      case "VAR_SET_MULTI" -> {
        for (JsonNode option : body.path("args")) {
          JsonNode def = option.path("DefElem");
          if (def.path("defname").asText().equals("transaction_read_only")) {
            readOnly(Optional.ofNullable(def.get("arg")));
          }
        }
      }
      case "VAR_SET_VALUE" -> settingChange(name, Optional.ofNullable(body.path("args").get(0)));
      default -> settingChange(name, Optional.empty()); // RESET, SET ... TO DEFAULT, FROM CURRENT
    }
  }

  /**
   * A setting given a value (or reset when {@code value} is empty). Resetting a read-only default
   * returns to what the administrator configured, so only setting it false is an escape.
   */
  private void settingChange(String name, Optional<JsonNode> value) {
    if (name.startsWith("warden.")) {
      // GUC names are case-insensitive (ASCII), and a name with any other character is invalid
      facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
    }
    switch (name) {
      case "role", "session_authorization" -> facts.flags.add(StatementFlag.ROLE_SWITCH);
      case "standard_conforming_strings", "client_encoding", "backslash_quote" ->
          facts.flags.add(StatementFlag.CHANGES_LEXING);
      case "search_path" -> facts.flags.add(StatementFlag.CHANGES_SEARCH_PATH);
      case "default_transaction_read_only", "transaction_read_only" -> {
        if (value.isPresent()) {
          readOnly(value);
        }
      }
      default -> {}
    }
  }

  /**
   * The arguments of a function that runs SQL given as text ({@code query_to_xml}, {@code
   * dblink_exec}, ...): text that may name a {@code warden.*} setting, or text that is not a
   * constant and so could be anything, may change one.
   */
  private void dynamicSqlArguments(JsonNode args) {
    for (JsonNode arg : args) {
      JsonNode constant = arg.has("TypeCast") ? arg.path("TypeCast").get("arg") : arg;
      if (!Constants.isConstant(constant)) {
        facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
        return;
      }
      if (constants.string(constant).filter(QueryWalker::mayNameIdentitySetting).isPresent()) {
        facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
        return;
      }
    }
  }

  /**
   * Code that runs later or elsewhere (a DO block's or a function's body, a string of dynamic SQL):
   * it may change a {@code warden.*} setting if its text may name one.
   */
  void code(JsonNode text) {
    if (mayNameIdentitySetting(constants.text(text))) {
      facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
    }
  }

  /**
   * A parsed tree that runs later (a rule's actions, a function's {@code BEGIN ATOMIC} body): it
   * changes a {@code warden.*} setting if it would as a statement of its own. Nothing else of it
   * counts as a fact of this statement.
   */
  void laterTree(JsonNode tree) {
    if (tree == null) {
      return;
    }
    Facts later = new Facts(StatementKind.UNKNOWN, "");
    new QueryWalker(later, constants).node(tree);
    if (later.flags.contains(StatementFlag.CHANGES_IDENTITY_SETTING)) {
      facts.flags.add(StatementFlag.CHANGES_IDENTITY_SETTING);
    }
  }

  /**
   * Whether code may name a {@code warden.*} setting: a conservative textual check, since PL/pgSQL
   * and dynamic SQL are not parsed here. Any mention of the identifier {@code warden} counts (also
   * quoted, and followed by spaces or comments before the dot, which the grammar allows: {@code SET
   * "WARDEN" . identity}), as does a Unicode-escaped identifier; reads by {@code
   * current_setting('warden.x')} do not, so row-level security helpers can be defined. Text that
   * builds the name from pieces at run time ({@code 'war' || 'den.identity'}) is not caught: it is
   * DYNAMIC_SQL, which policy judges.
   */
  static boolean mayNameIdentitySetting(String code) {
    String rest = IDENTITY_SETTING_READ.matcher(code).replaceAll(" ");
    return IDENTITY_SETTING_WORD.matcher(rest).find();
  }

  private void readOnly(Optional<JsonNode> value) {
    Optional<Boolean> on = value.filter(Constants::isConstant).flatMap(constants::bool);
    if (on.isEmpty() || !on.get()) {
      facts.flags.add(StatementFlag.READ_WRITE_ESCAPE);
    }
  }
}
