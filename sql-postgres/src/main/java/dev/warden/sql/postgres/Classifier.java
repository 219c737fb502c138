package dev.warden.sql.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.warden.core.identity.IdentitySettings;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns one statement of libpg_query's parse tree into its {@link Statement}: the kind and command
 * tag per statement type, and the facts of the parts that run.
 *
 * <p>Choices worth knowing: {@code CREATE FUNCTION}/{@code PROCEDURE} is DDL with {@link
 * StatementFlag#DYNAMIC_SQL} (its body is code Warden does not analyse and later calls run it), and
 * also {@link StatementFlag#SIDE_EFFECTS} for C, internal and untrusted languages (loading a C
 * library runs its code at once). {@code DO} and {@code CALL} are UTILITY with DYNAMIC_SQL. {@code
 * EXECUTE name} is UNKNOWN with {@code preparedName} set: the gatekeeper resolves it through the
 * session's prepared statements. Maintenance commands (VACUUM, CLUSTER, REINDEX, REFRESH) list
 * their relations as written. Statement types not known here are UNKNOWN, except CREATE/ALTER/DROP
 * of other objects, which are DDL.
 */
final class Classifier {
  private static final Map<String, String> SIMPLE_DDL =
      Map.ofEntries(
          Map.entry("CreateStmt", "CREATE TABLE"),
          Map.entry("CreateForeignTableStmt", "CREATE FOREIGN TABLE"),
          Map.entry("ViewStmt", "CREATE VIEW"),
          Map.entry("CreateSeqStmt", "CREATE SEQUENCE"),
          Map.entry("AlterSeqStmt", "ALTER SEQUENCE"),
          Map.entry("CreateSchemaStmt", "CREATE SCHEMA"),
          Map.entry("CreateExtensionStmt", "CREATE EXTENSION"),
          Map.entry("AlterExtensionStmt", "ALTER EXTENSION"),
          Map.entry("AlterExtensionContentsStmt", "ALTER EXTENSION"),
          Map.entry("CreateTrigStmt", "CREATE TRIGGER"),
          Map.entry("CreateEventTrigStmt", "CREATE EVENT TRIGGER"),
          Map.entry("AlterEventTrigStmt", "ALTER EVENT TRIGGER"),
          Map.entry("CreateForeignServerStmt", "CREATE SERVER"),
          Map.entry("AlterForeignServerStmt", "ALTER SERVER"),
          Map.entry("CreateUserMappingStmt", "CREATE USER MAPPING"),
          Map.entry("AlterUserMappingStmt", "ALTER USER MAPPING"),
          Map.entry("CreateSubscriptionStmt", "CREATE SUBSCRIPTION"),
          Map.entry("AlterSubscriptionStmt", "ALTER SUBSCRIPTION"),
          Map.entry("CreatePublicationStmt", "CREATE PUBLICATION"),
          Map.entry("AlterPublicationStmt", "ALTER PUBLICATION"),
          Map.entry("CreatedbStmt", "CREATE DATABASE"),
          Map.entry("AlterDatabaseStmt", "ALTER DATABASE"),
          Map.entry("AlterDatabaseSetStmt", "ALTER DATABASE"),
          Map.entry("AlterDatabaseRefreshCollStmt", "ALTER DATABASE"),
          Map.entry("CreateTableSpaceStmt", "CREATE TABLESPACE"),
          Map.entry("AlterTableSpaceOptionsStmt", "ALTER TABLESPACE"),
          Map.entry("AlterTableMoveAllStmt", "ALTER TABLE"),
          Map.entry("CreatePLangStmt", "CREATE LANGUAGE"),
          Map.entry("CreateFdwStmt", "CREATE FOREIGN DATA WRAPPER"),
          Map.entry("AlterFdwStmt", "ALTER FOREIGN DATA WRAPPER"),
          Map.entry("ImportForeignSchemaStmt", "IMPORT FOREIGN SCHEMA"),
          Map.entry("CreateDomainStmt", "CREATE DOMAIN"),
          Map.entry("AlterDomainStmt", "ALTER DOMAIN"),
          Map.entry("CompositeTypeStmt", "CREATE TYPE"),
          Map.entry("CreateEnumStmt", "CREATE TYPE"),
          Map.entry("CreateRangeStmt", "CREATE TYPE"),
          Map.entry("AlterEnumStmt", "ALTER TYPE"),
          Map.entry("AlterTypeStmt", "ALTER TYPE"),
          Map.entry("CreateCastStmt", "CREATE CAST"),
          Map.entry("CreateConversionStmt", "CREATE CONVERSION"),
          Map.entry("CreateOpClassStmt", "CREATE OPERATOR CLASS"),
          Map.entry("CreateOpFamilyStmt", "CREATE OPERATOR FAMILY"),
          Map.entry("AlterOpFamilyStmt", "ALTER OPERATOR FAMILY"),
          Map.entry("AlterOperatorStmt", "ALTER OPERATOR"),
          Map.entry("CreateTransformStmt", "CREATE TRANSFORM"),
          Map.entry("CreateAmStmt", "CREATE ACCESS METHOD"),
          Map.entry("CreatePolicyStmt", "CREATE POLICY"),
          Map.entry("AlterPolicyStmt", "ALTER POLICY"),
          Map.entry("CreateStatsStmt", "CREATE STATISTICS"),
          Map.entry("AlterStatsStmt", "ALTER STATISTICS"),
          Map.entry("AlterCollationStmt", "ALTER COLLATION"),
          Map.entry("AlterTSDictionaryStmt", "ALTER TEXT SEARCH DICTIONARY"),
          Map.entry("AlterTSConfigurationStmt", "ALTER TEXT SEARCH CONFIGURATION"),
          Map.entry("CommentStmt", "COMMENT"),
          Map.entry("SecLabelStmt", "SECURITY LABEL"));

  private static final Map<String, String> DCL =
      Map.of(
          "GrantRoleStmt", "GRANT ROLE",
          "AlterDefaultPrivilegesStmt", "ALTER DEFAULT PRIVILEGES",
          "CreateRoleStmt", "CREATE ROLE",
          "AlterRoleStmt", "ALTER ROLE",
          "AlterRoleSetStmt", "ALTER ROLE",
          "DropRoleStmt", "DROP ROLE",
          "ReassignOwnedStmt", "REASSIGN OWNED",
          "DropOwnedStmt", "DROP OWNED");

  /** Types whose DROP names relations: their names become written tables. */
  private static final Set<String> RELATION_TYPES =
      Set.of(
          "OBJECT_TABLE",
          "OBJECT_VIEW",
          "OBJECT_MATVIEW",
          "OBJECT_SEQUENCE",
          "OBJECT_FOREIGN_TABLE",
          "OBJECT_INDEX");

  private static final Set<String> SAFE_LANGUAGES = Set.of("sql", "plpgsql");

  private final Constants constants;

  Classifier(Constants constants) {
    this.constants = constants;
  }

  /** The statement a wrapped statement node ({@code {"SelectStmt": {...}}}) stands for. */
  Statement classify(JsonNode wrapped) {
    if (wrapped == null || !wrapped.isObject() || wrapped.size() != 1) {
      return Statement.unknown("UNKNOWN", "the parser returned no statement");
    }
    var entry = wrapped.properties().iterator().next();
    String type = entry.getKey();
    JsonNode s = entry.getValue();
    Facts f = facts(type, s);
    if (createsTemporary(type, s)) {
      f.flags.add(StatementFlag.TEMPORARY);
    }
    if (!f.hasWhere || f.whereTriviallyTrue) {
      f.flags.add(StatementFlag.UNBOUNDED);
    }
    return f.toStatement();
  }

  /**
   * Whether the statement creates a relation that lives only for the session: declared TEMP (the
   * parser's {@code relpersistence 't'}) or created in {@code pg_temp}.
   */
  private static boolean createsTemporary(String type, JsonNode s) {
    JsonNode target =
        switch (type) {
          case "CreateStmt" -> s.path("relation");
          case "CreateTableAsStmt" -> s.path("into").path("rel");
          case "ViewStmt" -> s.path("view");
          case "CreateSeqStmt" -> s.path("sequence");
          default -> null;
        };
    return target != null
        && (target.path("relpersistence").asText().equals("t")
            || target.path("schemaname").asText().equalsIgnoreCase("pg_temp"));
  }

  private Facts facts(String type, JsonNode s) {
    return switch (type) {
      case "SelectStmt" -> {
        Facts f = walked(StatementKind.READ, "SELECT", s, QueryWalker::select);
        if (s.has("intoClause")) {
          f.command = "SELECT INTO";
          f.kind = StatementKind.WRITE;
        }
        yield f;
      }
      case "InsertStmt" -> walked(StatementKind.WRITE, "INSERT", wrap(type, s));
      case "UpdateStmt" -> walked(StatementKind.WRITE, "UPDATE", wrap(type, s));
      case "DeleteStmt" -> walked(StatementKind.WRITE, "DELETE", wrap(type, s));
      case "MergeStmt" -> walked(StatementKind.WRITE, "MERGE", wrap(type, s));
      case "ExplainStmt" -> explain(s);
      case "CreateTableAsStmt" -> createTableAs(s);
      case "DeclareCursorStmt" -> {
        Statement query = classify(s.get("query"));
        Facts f = new Facts(query.kind(), "DECLARE CURSOR");
        f.absorb(query);
        f.inner = Optional.of(query);
        yield f;
      }
      case "PrepareStmt" -> {
        Facts f = new Facts(StatementKind.SESSION, "PREPARE");
        f.preparedName = s.path("name").asText("");
        f.inner = Optional.of(classify(s.get("query")));
        yield f;
      }
      case "ExecuteStmt" -> {
        String name = s.path("name").asText("");
        Facts f = walked(StatementKind.UNKNOWN, "EXECUTE", s.get("params"));
        f.preparedName = name;
        f.reason(
            "EXECUTE runs the prepared statement \"" + name + "\": it is what PREPARE defined");
        yield f;
      }
      case "DeallocateStmt" -> {
        Facts f = new Facts(StatementKind.SESSION, s.has("name") ? "DEALLOCATE" : "DEALLOCATE ALL");
        f.preparedName = s.path("name").asText("");
        yield f;
      }
      case "FetchStmt" ->
          new Facts(StatementKind.READ, s.path("ismove").asBoolean(false) ? "MOVE" : "FETCH");
      case "ClosePortalStmt" ->
          new Facts(
              StatementKind.SESSION, s.has("portalname") ? "CLOSE CURSOR" : "CLOSE CURSOR ALL");
      case "DoStmt" -> doBlock(s);
      case "CallStmt" -> {
        Facts f = walked(StatementKind.UTILITY, "CALL", wrap("FuncCall", s.path("funccall")));
        f.flags.add(StatementFlag.DYNAMIC_SQL);
        f.reason("the body of the called procedure is not analysed");
        yield f;
      }
      case "CopyStmt" -> copy(s);
      case "VariableSetStmt" -> {
        String kind = s.path("kind").asText();
        boolean reset = kind.equals("VAR_RESET") || kind.equals("VAR_RESET_ALL");
        String command = reset ? "RESET" : "SET";
        Optional<ReasonSetting> reason = reasonSetting(s);
        if (reason.isPresent()) {
          // The one warden.* setting a session may change: not walked, so not flagged as an
          // identity setting.
          Facts f = new Facts(StatementKind.SESSION, command);
          f.reasonSetting = reason;
          yield f;
        }
        Facts f = walked(StatementKind.SESSION, command, wrap(type, s));
        if (kind.equals("VAR_RESET_ALL")) {
          f.reasonSetting = Optional.of(ReasonSetting.RESET);
        }
        yield f;
      }
      case "VariableShowStmt" -> new Facts(StatementKind.READ, "SHOW");
      case "DiscardStmt" -> discard(s);
      case "TransactionStmt" -> transaction(s);
      case "ConstraintsSetStmt" -> new Facts(StatementKind.TRANSACTION, "SET CONSTRAINTS");
      case "ListenStmt" -> new Facts(StatementKind.SESSION, "LISTEN");
      case "UnlistenStmt" -> new Facts(StatementKind.SESSION, "UNLISTEN");
      case "NotifyStmt" ->
          flagged(new Facts(StatementKind.UTILITY, "NOTIFY"), StatementFlag.SIDE_EFFECTS);
      case "LoadStmt" -> {
        Facts f = flagged(new Facts(StatementKind.UTILITY, "LOAD"), StatementFlag.SIDE_EFFECTS);
        f.reason("LOAD runs the code of a shared library");
        yield f;
      }
      case "LockStmt" -> {
        Facts f = new Facts(StatementKind.UTILITY, "LOCK TABLE");
        f.flags.add(StatementFlag.LOCKS);
        for (JsonNode r : s.path("relations")) {
          f.tablesRead.add(QueryWalker.table(r.path("RangeVar")));
        }
        yield f;
      }
      case "TruncateStmt" ->
          flagged(
              walked(StatementKind.DDL, "TRUNCATE TABLE", s.get("relations")),
              StatementFlag.DESTRUCTIVE);
      case "DropStmt" -> drop(s);
      case "DropdbStmt" ->
          flagged(new Facts(StatementKind.DDL, "DROP DATABASE"), StatementFlag.DESTRUCTIVE);
      case "DropTableSpaceStmt" ->
          flagged(new Facts(StatementKind.DDL, "DROP TABLESPACE"), StatementFlag.DESTRUCTIVE);
      case "DropSubscriptionStmt" ->
          flagged(new Facts(StatementKind.DDL, "DROP SUBSCRIPTION"), StatementFlag.DESTRUCTIVE);
      case "DropUserMappingStmt" ->
          flagged(new Facts(StatementKind.DDL, "DROP USER MAPPING"), StatementFlag.DESTRUCTIVE);
      case "AlterSystemStmt" -> {
        Facts f =
            walked(
                StatementKind.UTILITY,
                "ALTER SYSTEM",
                s.get("setstmt") == null ? null : wrap("VariableSetStmt", s.get("setstmt")));
        f.flags.add(StatementFlag.ALTER_SYSTEM);
        yield f;
      }
      case "GrantStmt" ->
          walked(
              StatementKind.DCL,
              s.path("is_grant").asBoolean(false) ? "GRANT" : "REVOKE",
              s.get("objects"));
      case "GrantRoleStmt" ->
          new Facts(
              StatementKind.DCL,
              s.path("is_grant").asBoolean(false) ? "GRANT ROLE" : "REVOKE ROLE");
      case "AlterTableStmt" -> alterTable(s);
      case "RenameStmt" ->
          walked(StatementKind.DDL, "ALTER " + objectType(s.path("renameType").asText()), s);
      case "AlterObjectSchemaStmt" ->
          walked(StatementKind.DDL, "ALTER " + objectType(s.path("objectType").asText()), s);
      case "AlterOwnerStmt" ->
          walked(StatementKind.DDL, "ALTER " + objectType(s.path("objectType").asText()), s);
      case "AlterFunctionStmt" ->
          walked(StatementKind.DDL, "ALTER " + objectType(s.path("objtype").asText()), s);
      case "DefineStmt" ->
          walked(StatementKind.DDL, "CREATE " + objectType(s.path("kind").asText()), s);
      case "CreateFunctionStmt" -> createFunction(s);
      case "IndexStmt" -> {
        Facts f = new Facts(StatementKind.DDL, "CREATE INDEX");
        TableRef table = QueryWalker.table(s.path("relation"));
        f.tablesWritten.add(table);
        new QueryWalker(f, constants).on(table, s.path("indexParams"));
        new QueryWalker(f, constants).on(table, s.path("whereClause"));
        yield f;
      }
      case "RuleStmt" -> {
        Facts f = new Facts(StatementKind.DDL, "CREATE RULE");
        f.tablesWritten.add(QueryWalker.table(s.path("relation")));
        f.flags.add(StatementFlag.DYNAMIC_SQL);
        f.reason("the actions of a rule run on later statements and are not analysed");
        new QueryWalker(f, constants).laterTree(s.get("actions"));
        yield f;
      }
      case "CreateSubscriptionStmt" ->
          flagged(walked(StatementKind.DDL, "CREATE SUBSCRIPTION", s), StatementFlag.SIDE_EFFECTS);
      case "CreateExtensionStmt" ->
          flagged(walked(StatementKind.DDL, "CREATE EXTENSION", s), StatementFlag.SIDE_EFFECTS);
      case "VacuumStmt" -> {
        boolean vacuum = s.path("is_vacuumcmd").asBoolean(false);
        Facts f = walked(StatementKind.UTILITY, vacuum ? "VACUUM" : "ANALYZE", s.get("rels"));
        for (JsonNode option : s.path("options")) {
          if (option.path("DefElem").path("defname").asText().equals("full")) {
            f.flags.add(StatementFlag.LOCKS);
          }
        }
        yield f;
      }
      case "ClusterStmt" ->
          flagged(walked(StatementKind.UTILITY, "CLUSTER", s.get("relation")), StatementFlag.LOCKS);
      case "ReindexStmt" -> walked(StatementKind.UTILITY, "REINDEX", s.get("relation"));
      case "CheckPointStmt" -> new Facts(StatementKind.UTILITY, "CHECKPOINT");
      case "RefreshMatViewStmt" ->
          walked(StatementKind.UTILITY, "REFRESH MATERIALIZED VIEW", s.get("relation"));
      default -> other(type, s);
    };
  }

  private Facts other(String type, JsonNode s) {
    String simple = SIMPLE_DDL.get(type);
    if (simple != null) {
      return walked(StatementKind.DDL, simple, s);
    }
    String dcl = DCL.get(type);
    if (dcl != null) {
      Facts f = walked(StatementKind.DCL, dcl, s);
      if (dcl.startsWith("DROP")) {
        f.flags.add(StatementFlag.DESTRUCTIVE);
      }
      return f;
    }
    if (type.endsWith("Stmt")) {
      for (String verb : new String[] {"Create", "Alter", "Drop"}) {
        if (type.startsWith(verb)) {
          Facts f = walked(StatementKind.DDL, verb.toUpperCase(Locale.ROOT), s);
          if (verb.equals("Drop")) {
            f.flags.add(StatementFlag.DESTRUCTIVE);
          }
          return f;
        }
      }
    }
    Facts f = new Facts(StatementKind.UNKNOWN, "UNKNOWN");
    f.reason("statement type " + type + " is not classified");
    return f;
  }

  // ---- helpers

  private interface Walk {
    void walk(QueryWalker walker, JsonNode node);
  }

  private Facts walked(StatementKind kind, String command, JsonNode node) {
    return walked(kind, command, node, QueryWalker::node);
  }

  private Facts walked(StatementKind kind, String command, JsonNode node, Walk walk) {
    Facts f = new Facts(kind, command);
    if (node != null) {
      walk.walk(new QueryWalker(f, constants), node);
    }
    return f;
  }

  private static Facts flagged(Facts f, StatementFlag flag) {
    f.flags.add(flag);
    return f;
  }

  private static JsonNode wrap(String type, JsonNode body) {
    var wrapper = JsonNodeFactory.instance.objectNode();
    wrapper.set(type, body);
    return wrapper;
  }

  /** {@code OBJECT_MATVIEW} → {@code MATERIALIZED VIEW}, as command tags spell object types. */
  static String objectType(String objectType) {
    String t = objectType.startsWith("OBJECT_") ? objectType.substring(7) : objectType;
    return switch (t) {
      case "MATVIEW" -> "MATERIALIZED VIEW";
      case "FDW" -> "FOREIGN DATA WRAPPER";
      case "FOREIGN_SERVER" -> "SERVER";
      case "TSCONFIGURATION" -> "TEXT SEARCH CONFIGURATION";
      case "TSDICTIONARY" -> "TEXT SEARCH DICTIONARY";
      case "TSPARSER" -> "TEXT SEARCH PARSER";
      case "TSTEMPLATE" -> "TEXT SEARCH TEMPLATE";
      case "OPCLASS" -> "OPERATOR CLASS";
      case "OPFAMILY" -> "OPERATOR FAMILY";
      case "ACCESS_METHOD" -> "ACCESS METHOD";
      case "EVENT_TRIGGER" -> "EVENT TRIGGER";
      case "LARGEOBJECT" -> "LARGE OBJECT";
      case "TABCONSTRAINT" -> "TABLE";
      case "COLUMN", "ATTRIBUTE" -> "TABLE";
      default -> t.replace('_', ' ');
    };
  }

  private Facts explain(JsonNode s) {
    Statement inner = classify(s.get("query"));
    boolean analyze = false;
    for (JsonNode option : s.path("options")) {
      JsonNode def = option.path("DefElem");
      if (def.path("defname").asText().equals("analyze")) {
        analyze = optionValue(def).orElse(true);
      }
    }
    Facts f;
    if (analyze) {
      f = new Facts(inner.kind(), "EXPLAIN");
      f.absorb(inner);
      f.flags.add(StatementFlag.EXPLAIN_ANALYZE);
    } else {
      f = new Facts(StatementKind.READ, "EXPLAIN");
      f.tablesRead.addAll(inner.tablesRead());
      f.tablesRead.addAll(inner.tablesWritten());
      f.columnsRead.addAll(inner.columnsRead());
      f.functions.addAll(inner.functions());
      if (inner.kind() == StatementKind.UNKNOWN) {
        f.reason(inner.unknownReason());
      }
    }
    f.inner = Optional.of(inner);
    return f;
  }

  /**
   * A boolean option's value: absent means true; a word or number is read as the server does.
   * Unreadable values count as true (the server rejects them, so nothing runs either way).
   */
  private Optional<Boolean> optionValue(JsonNode def) {
    JsonNode arg = def.get("arg");
    if (arg == null) {
      return Optional.of(true);
    }
    if (arg.has("String")) {
      return Optional.of(
          Constants.parseBool(constants.text(arg.path("String").path("sval"))).orElse(true));
    }
    if (arg.has("Integer")) {
      return Optional.of(!constants.text(arg.path("Integer").path("ival")).matches("0?"));
    }
    if (arg.has("Boolean")) {
      return Optional.of(arg.path("Boolean").path("boolval").asBoolean(false));
    }
    return Optional.of(true);
  }

  private Facts createTableAs(JsonNode s) {
    boolean view = s.path("objtype").asText().equals("OBJECT_MATVIEW");
    Statement query = classify(s.get("query"));
    Facts f = new Facts(StatementKind.DDL, view ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE AS");
    f.absorb(query);
    f.tablesWritten.add(QueryWalker.table(s.path("into").path("rel")));
    if (query.kind() == StatementKind.UNKNOWN) {
      f.kind = StatementKind.UNKNOWN;
    }
    f.inner = Optional.of(query);
    return f;
  }

  private Facts doBlock(JsonNode s) {
    Facts f = new Facts(StatementKind.UTILITY, "DO");
    f.flags.add(StatementFlag.DYNAMIC_SQL);
    f.reason("the body of a DO block is not analysed");
    for (JsonNode arg : s.path("args")) {
      JsonNode def = arg.path("DefElem");
      if (def.path("defname").asText().equals("as")) {
        new QueryWalker(f, constants).code(def.path("arg").path("String").path("sval"));
      }
      if (def.path("defname").asText().equals("language")) {
        String language = constants.text(def.path("arg").path("String").path("sval"));
        if (!SAFE_LANGUAGES.contains(language)) {
          f.flags.add(StatementFlag.SIDE_EFFECTS);
        }
      }
    }
    return f;
  }

  private Facts createFunction(JsonNode s) {
    boolean procedure = s.path("is_procedure").asBoolean(false);
    Facts f = new Facts(StatementKind.DDL, procedure ? "CREATE PROCEDURE" : "CREATE FUNCTION");
    f.flags.add(StatementFlag.DYNAMIC_SQL);
    QueryWalker walker = new QueryWalker(f, constants);
    String language = "sql";
    for (JsonNode option : s.path("options")) {
      JsonNode def = option.path("DefElem");
      switch (def.path("defname").asText()) {
        case "language" -> language = constants.text(def.path("arg").path("String").path("sval"));
        case "set" -> walker.node(def.get("arg"));
        case "as" -> {
          for (JsonNode part : def.path("arg").path("List").path("items")) {
            walker.code(part.path("String").path("sval"));
          }
        }
        default -> {}
      }
    }
    walker.laterTree(s.get("sql_body"));
    if (!SAFE_LANGUAGES.contains(language)) {
      f.flags.add(StatementFlag.SIDE_EFFECTS);
    }
    return f;
  }

  private Facts copy(JsonNode s) {
    boolean from = s.path("is_from").asBoolean(false);
    Facts f;
    if (s.has("query")) {
      Statement query = classify(s.get("query"));
      f = new Facts(query.kind(), "COPY");
      f.absorb(query);
      // COPY's rows carry no origins: every column the query reads may reach them
      f.columnsComputed.addAll(query.columnsRead());
      f.inner = Optional.of(query);
    } else if (from) {
      f = new Facts(StatementKind.WRITE, "COPY");
      TableRef table = QueryWalker.table(s.path("relation"));
      f.tablesWritten.add(table);
      f.writes = true;
      columns(f.columnsWritten, table, s.path("attlist"));
      if (s.has("whereClause")) {
        new QueryWalker(f, constants).on(table, s.get("whereClause"));
      }
    } else {
      f = new Facts(StatementKind.READ, "COPY");
      TableRef table = QueryWalker.table(s.path("relation"));
      f.tablesRead.add(table);
      columns(f.columnsRead, table, s.path("attlist"));
      f.columnsComputed.addAll(f.columnsRead); // COPY's rows carry no origins
    }
    if (!from && !s.has("filename")) {
      f.copyOut = Optional.of(copyOut(s));
    }
    if (s.has("filename")) {
      constants.text(s.get("filename"));
      f.flags.add(
          s.path("is_program").asBoolean(false)
              ? StatementFlag.COPY_PROGRAM
              : StatementFlag.COPY_SERVER_FILE);
      f.flags.add(StatementFlag.SIDE_EFFECTS);
    }
    return f;
  }

  /**
   * What {@code COPY ... TO STDOUT} sends: its relation and columns, and the stream's format from
   * its options (both the {@code WITH (...)} list and the older keywords arrive as the same
   * DefElems). An option Warden does not read the stream under makes it unsupported.
   */
  private static CopyOut copyOut(JsonNode s) {
    Optional<TableRef> table =
        s.has("query") ? Optional.empty() : Optional.of(QueryWalker.table(s.path("relation")));
    List<String> columns = new ArrayList<>();
    for (JsonNode a : s.path("attlist")) {
      columns.add(a.path("String").path("sval").asText());
    }
    CopyOut.Format format = CopyOut.Format.TEXT;
    String delimiter = null;
    String nullString = null;
    String quote = null;
    String escape = null;
    boolean header = false;
    Optional<String> encoding = Optional.empty();
    String unsupported = "";
    for (JsonNode o : s.path("options")) {
      JsonNode def = o.path("DefElem");
      String name = def.path("defname").asText("");
      JsonNode arg = def.path("arg");
      String value =
          arg.has("String")
              ? arg.path("String").path("sval").asText("")
              : arg.has("Boolean")
                  ? Boolean.toString(arg.path("Boolean").path("boolval").asBoolean(false))
                  : arg.has("Integer") ? arg.path("Integer").path("ival").asText("0") : null;
      switch (name) {
        case "format" -> {
          switch (value == null ? "" : value.toLowerCase(Locale.ROOT)) {
            case "text" -> format = CopyOut.Format.TEXT;
            case "csv" -> format = CopyOut.Format.CSV;
            case "binary" -> format = CopyOut.Format.BINARY;
            default -> unsupported = "COPY format " + value;
          }
        }
        case "delimiter" -> delimiter = value;
        case "null" -> nullString = value;
        case "quote" -> quote = value;
        case "escape" -> escape = value;
        case "header" -> header = arg.isMissingNode() || truthy(value);
        case "encoding" -> encoding = Optional.ofNullable(value);
        case "force_quote" -> {} // (quoting is read wherever it is)
        default -> {
          if (unsupported.isEmpty()) {
            unsupported = "COPY option " + name;
          }
        }
      }
    }
    boolean csv = format == CopyOut.Format.CSV;
    if (delimiter == null) {
      delimiter = csv ? "," : "\t";
    }
    if (nullString == null) {
      nullString = csv ? "" : "\\N";
    }
    quote = quote == null ? "\"" : quote;
    escape = escape == null ? quote : escape;
    if (unsupported.isEmpty()
        && (delimiter.length() != 1
            || quote.length() != 1
            || escape.length() != 1
            || delimiter.charAt(0) >= 0x80
            || quote.charAt(0) >= 0x80
            || escape.charAt(0) >= 0x80)) {
      unsupported = "a COPY delimiter, quote or escape that is not one ASCII character";
    }
    return new CopyOut(
        table,
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

  /** PostgreSQL's spellings of true for a boolean option. */
  private static boolean truthy(String value) {
    if (value == null) {
      return false;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "on", "1", "yes", "t", "y" -> true;
      default -> false;
    };
  }

  private static void columns(Set<ColumnRef> into, TableRef table, JsonNode attlist) {
    if (attlist.isMissingNode() || attlist.isEmpty()) {
      into.add(new ColumnRef(table, "*"));
      return;
    }
    for (JsonNode a : attlist) {
      into.add(new ColumnRef(table, a.path("String").path("sval").asText()));
    }
  }

  private static Facts discard(JsonNode s) {
    String target = s.path("target").asText("DISCARD_ALL");
    String what = target.startsWith("DISCARD_") ? target.substring(8) : target;
    Facts f = new Facts(StatementKind.SESSION, "DISCARD " + what);
    if (what.equals("ALL")) {
      f.flags.add(StatementFlag.CHANGES_LEXING);
      f.flags.add(StatementFlag.CHANGES_SEARCH_PATH);
      f.reasonSetting = Optional.of(ReasonSetting.RESET);
    }
    return f;
  }

  /**
   * What a SET or RESET statement of its own does to {@code warden.reason}, when it names exactly
   * that setting and in a form Warden follows: {@code SET [SESSION | LOCAL] warden.reason = value}
   * or {@code TO value} with one constant (a string, a word, a number), {@code ... TO DEFAULT}, or
   * {@code RESET warden.reason}. Empty for any other statement, and for {@code FROM CURRENT} or a
   * value that is not one constant: those are walked as any setting, and so flagged as changing a
   * {@code warden.*} setting. A SET held by ALTER ROLE, DATABASE or SYSTEM or by a function never
   * comes here.
   */
  private Optional<ReasonSetting> reasonSetting(JsonNode s) {
    if (!IdentitySettings.isReason(s.path("name").asText(""))) {
      return Optional.empty();
    }
    boolean local = s.path("is_local").asBoolean(false);
    return switch (s.path("kind").asText()) {
      case "VAR_RESET" -> Optional.of(ReasonSetting.RESET);
      case "VAR_SET_DEFAULT" -> Optional.of(new ReasonSetting(Optional.empty(), local));
      case "VAR_SET_VALUE" -> {
        JsonNode args = s.path("args");
        if (args.size() != 1) {
          yield Optional.empty(); // PostgreSQL refuses a list for a setting of its own
        }
        yield settingText(args.get(0)).map(v -> new ReasonSetting(Optional.of(v), local));
      }
      default -> Optional.empty();
    };
  }

  /**
   * A SET value's text as PostgreSQL stores it ({@code flatten_set_variable_args}): a string or
   * word as it is (a word already folded to lower case by the parser), an integer in decimal, any
   * other number as written.
   */
  private Optional<String> settingText(JsonNode arg) {
    JsonNode c = arg.get("A_Const");
    if (c == null || c.path("isnull").asBoolean(false)) {
      return Optional.empty();
    }
    if (c.has("sval")) {
      return constants.string(arg);
    }
    if (c.has("fval")) {
      constants.markRead();
      String text = c.path("fval").path("fval").asText("");
      return text.isEmpty() ? Optional.empty() : Optional.of(text);
    }
    if (c.has("ival")) {
      return constants
          .value(arg)
          .flatMap(Constants.Value::value)
          .filter(BigDecimal.class::isInstance)
          .map(v -> ((BigDecimal) v).toPlainString());
    }
    return Optional.empty();
  }

  private Facts transaction(JsonNode s) {
    String command =
        switch (s.path("kind").asText()) {
          case "TRANS_STMT_BEGIN" -> "BEGIN";
          case "TRANS_STMT_START" -> "START TRANSACTION";
          case "TRANS_STMT_COMMIT" -> "COMMIT";
          case "TRANS_STMT_ROLLBACK", "TRANS_STMT_ROLLBACK_TO" -> "ROLLBACK";
          case "TRANS_STMT_SAVEPOINT" -> "SAVEPOINT";
          case "TRANS_STMT_RELEASE" -> "RELEASE";
          case "TRANS_STMT_PREPARE" -> "PREPARE TRANSACTION";
          case "TRANS_STMT_COMMIT_PREPARED" -> "COMMIT PREPARED";
          case "TRANS_STMT_ROLLBACK_PREPARED" -> "ROLLBACK PREPARED";
          default -> "BEGIN";
        };
    Facts f = new Facts(StatementKind.TRANSACTION, command);
    for (JsonNode option : s.path("options")) {
      JsonNode def = option.path("DefElem");
      if (def.path("defname").asText().equals("transaction_read_only")) {
        Optional<Boolean> readOnly = constants.bool(def.get("arg"));
        if (readOnly.isEmpty() || !readOnly.get()) {
          f.flags.add(StatementFlag.READ_WRITE_ESCAPE);
        }
      }
    }
    return f;
  }

  private Facts drop(JsonNode s) {
    String type = s.path("removeType").asText();
    Facts f = new Facts(StatementKind.DDL, "DROP " + objectType(type));
    f.flags.add(StatementFlag.DESTRUCTIVE);
    if (RELATION_TYPES.contains(type)) {
      for (JsonNode object : s.path("objects")) {
        StringBuilder name = new StringBuilder();
        for (JsonNode part : object.path("List").path("items")) {
          if (!name.isEmpty()) {
            name.append('.');
          }
          name.append('"')
              .append(part.path("String").path("sval").asText().replace("\"", "\"\""))
              .append('"');
        }
        Names.relation(name.toString()).ifPresent(f.tablesWritten::add);
      }
    }
    return f;
  }

  private Facts alterTable(JsonNode s) {
    Facts f =
        walked(
            StatementKind.DDL, "ALTER " + objectType(s.path("objtype").asText("OBJECT_TABLE")), s);
    for (JsonNode cmd : s.path("cmds")) {
      if (cmd.path("AlterTableCmd").path("subtype").asText().equals("AT_DropColumn")) {
        f.flags.add(StatementFlag.DESTRUCTIVE);
      }
    }
    return f;
  }
}
