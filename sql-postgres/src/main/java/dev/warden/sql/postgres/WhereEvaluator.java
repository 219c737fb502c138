package dev.warden.sql.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a WHERE (or MERGE ON) condition holds for every row whatever the data, by
 * evaluating it in SQL's three-valued logic over what the text alone fixes.
 *
 * <p>It says "trivially true" for: true constants ({@code true}, {@code 't'}, {@code 1::bool},
 * {@code NOT false}), comparisons of constants that hold ({@code 1=1}, {@code 'a'='a'}, {@code 1 <
 * 2}, {@code 1 IN (1,2)}), an expression compared with itself ({@code id = id}, {@code x IS NOT
 * DISTINCT FROM x}), {@code column IS NOT NULL}, {@code column LIKE '%'}, {@code p OR NOT p}, an
 * {@code EXISTS} of a query without FROM or WHERE, and AND/OR/NOT/IS TRUE combinations of these.
 * The column forms are not strictly true for NULLs, but they filter nothing on a NOT NULL column,
 * which is how they are used to disguise an unbounded statement. A condition that names no column
 * and has no subquery keeps all rows or none, so it counts too unless its constants make it false.
 * Everything else, anything that depends on the rows, is not trivially true.
 */
final class WhereEvaluator {
  enum Truth {
    TRUE,
    FALSE,
    NULL,
    VARIES
  }

  private final Constants constants;

  WhereEvaluator(Constants constants) {
    this.constants = constants;
  }

  /**
   * True if {@code condition} holds for every row. A condition that names no column and holds no
   * subquery ({@code WHERE $1}, {@code WHERE current_user = 'x'}) cannot tell rows apart: it keeps
   * all of them or none, so unless its constants make it false it counts as true.
   */
  boolean triviallyTrue(JsonNode condition) {
    Truth t = evaluate(condition);
    return t == Truth.TRUE || (t == Truth.VARIES && !referencesRows(condition));
  }

  private static boolean referencesRows(JsonNode node) {
    if (node.isObject()
        && (node.has("ColumnRef") || node.has("SubLink") || node.has("CurrentOfExpr"))) {
      return true;
    }
    for (JsonNode child : node) {
      if (referencesRows(child)) {
        return true;
      }
    }
    return false;
  }

  Truth evaluate(JsonNode node) {
    if (node == null || !node.isObject() || node.size() != 1) {
      return Truth.VARIES;
    }
    Map.Entry<String, JsonNode> entry = node.properties().iterator().next();
    JsonNode body = entry.getValue();
    return switch (entry.getKey()) {
      case "A_Const" -> constant(node);
      case "TypeCast" -> cast(body);
      case "BoolExpr" -> bool(body);
      case "A_Expr" -> expression(body);
      case "NullTest" -> nullTest(body);
      case "BooleanTest" -> booleanTest(body);
      case "SubLink" -> subLink(body);
      default -> Truth.VARIES;
    };
  }

  private Truth constant(JsonNode node) {
    Optional<Constants.Value> value = constants.value(node);
    if (value.isEmpty()) {
      return Truth.VARIES;
    }
    if (value.get().isNull()) {
      return Truth.NULL;
    }
    Object v = value.get().value().orElseThrow();
    if (v instanceof Boolean b) {
      return b ? Truth.TRUE : Truth.FALSE;
    }
    if (v instanceof String s) {
      // an untyped literal in a boolean context is read as a boolean
      return Constants.parseBool(s).map(b -> b ? Truth.TRUE : Truth.FALSE).orElse(Truth.VARIES);
    }
    return Truth.VARIES; // a number where a boolean belongs: the server rejects it
  }

  private Truth cast(JsonNode body) {
    JsonNode names = body.path("typeName").path("names");
    String type =
        names.isEmpty() ? "" : names.get(names.size() - 1).path("String").path("sval").asText();
    if (!(type.equals("bool") || type.equals("boolean"))
        || !Constants.isConstant(body.get("arg"))) {
      return Truth.VARIES;
    }
    return constants
        .bool(body.get("arg"))
        .map(b -> b ? Truth.TRUE : Truth.FALSE)
        .orElse(Truth.VARIES);
  }

  private Truth bool(JsonNode body) {
    String op = body.path("boolop").asText();
    JsonNode args = body.path("args");
    if (op.equals("NOT_EXPR")) {
      return switch (evaluate(args.get(0))) {
        case TRUE -> Truth.FALSE;
        case FALSE -> Truth.TRUE;
        case NULL -> Truth.NULL;
        case VARIES -> Truth.VARIES;
      };
    }
    boolean and = op.equals("AND_EXPR");
    boolean anyNull = false;
    boolean anyVaries = false;
    for (JsonNode arg : args) {
      Truth t = evaluate(arg);
      if (and ? t == Truth.FALSE : t == Truth.TRUE) {
        return t;
      }
      anyNull |= t == Truth.NULL;
      anyVaries |= t == Truth.VARIES;
    }
    if (!and && anyVaries && excludedMiddle(args)) {
      return Truth.TRUE;
    }
    if (anyVaries) {
      return Truth.VARIES;
    }
    return anyNull ? Truth.NULL : (and ? Truth.TRUE : Truth.FALSE);
  }

  /** {@code p OR NOT p}: true for every row where p is not NULL. */
  private boolean excludedMiddle(JsonNode args) {
    for (JsonNode a : args) {
      JsonNode not = a.path("BoolExpr");
      if (not.path("boolop").asText().equals("NOT_EXPR")) {
        JsonNode negated = not.path("args").get(0);
        for (JsonNode b : args) {
          if (b != a && sameExpression(b, negated)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private Truth expression(JsonNode body) {
    String kind = body.path("kind").asText();
    JsonNode left = body.get("lexpr");
    JsonNode right = body.get("rexpr");
    String op = operator(body);
    return switch (kind) {
      case "AEXPR_OP" -> comparison(op, left, right);
      case "AEXPR_NOT_DISTINCT" -> sameExpression(left, right) ? Truth.TRUE : Truth.VARIES;
      case "AEXPR_DISTINCT" -> sameExpression(left, right) ? Truth.FALSE : Truth.VARIES;
      case "AEXPR_IN" -> in(op, left, right);
      case "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN" -> between(kind, left, right);
      case "AEXPR_LIKE", "AEXPR_ILIKE" -> like(op, left, right);
      default -> Truth.VARIES;
    };
  }

  private static String operator(JsonNode body) {
    JsonNode name = body.path("name");
    return name.isEmpty() ? "" : name.get(name.size() - 1).path("String").path("sval").asText();
  }

  private Truth comparison(String op, JsonNode left, JsonNode right) {
    if (Constants.isConstant(left) && Constants.isConstant(right)) {
      Optional<Constants.Value> l = constants.value(left);
      Optional<Constants.Value> r = constants.value(right);
      if (l.isEmpty() || r.isEmpty()) {
        return Truth.VARIES;
      }
      if (l.get().isNull() || r.get().isNull()) {
        return Truth.NULL;
      }
      Optional<Integer> order =
          compare(l.get().value().orElseThrow(), r.get().value().orElseThrow(), op);
      return order.map(c -> holds(op, c)).orElse(Truth.VARIES);
    }
    if (left != null && right != null && sameExpression(left, right)) {
      return switch (op) {
        case "=", "<=", ">=" -> Truth.TRUE;
        case "<>", "!=", "<", ">" -> Truth.FALSE;
        default -> Truth.VARIES;
      };
    }
    return Truth.VARIES;
  }

  private static Truth holds(String op, int c) {
    boolean result =
        switch (op) {
          case "=" -> c == 0;
          case "<>", "!=" -> c != 0;
          case "<" -> c < 0;
          case ">" -> c > 0;
          case "<=" -> c <= 0;
          case ">=" -> c >= 0;
          default -> throw new IllegalStateException(op);
        };
    return result ? Truth.TRUE : Truth.FALSE;
  }

  /** Compares two constants the way the server would, or empty when unsure. */
  private static Optional<Integer> compare(Object l, Object r, String op) {
    if (!(op.equals("=")
        || op.equals("<>")
        || op.equals("!=")
        || op.equals("<")
        || op.equals(">")
        || op.equals("<=")
        || op.equals(">="))) {
      return Optional.empty();
    }
    Optional<BigDecimal> ln = number(l);
    Optional<BigDecimal> rn = number(r);
    if (ln.isPresent() && rn.isPresent() && (l instanceof BigDecimal || r instanceof BigDecimal)) {
      return Optional.of(ln.get().compareTo(rn.get()));
    }
    if (l instanceof String ls && r instanceof String rs) {
      // equality of two literals is byte equality under every deterministic collation; order is not
      if (op.equals("=") || op.equals("<>") || op.equals("!=")) {
        return Optional.of(ls.equals(rs) ? 0 : 1);
      }
      return Optional.empty();
    }
    if (l instanceof Boolean lb && r instanceof Boolean rb) {
      return Optional.of(Boolean.compare(lb, rb));
    }
    return Optional.empty();
  }

  private static Optional<BigDecimal> number(Object o) {
    if (o instanceof BigDecimal d) {
      return Optional.of(d);
    }
    if (o instanceof String s) {
      try {
        return Optional.of(new BigDecimal(s.strip()));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private Truth in(String op, JsonNode left, JsonNode list) {
    JsonNode right =
        list == null ? null : list.has("List") ? list.path("List").path("items") : list;
    if (!Constants.isConstant(left) || right == null || !right.isArray()) {
      return Truth.VARIES;
    }
    boolean negated = op.equals("<>");
    Truth result = Truth.FALSE;
    for (JsonNode item : right) {
      if (!Constants.isConstant(item)) {
        return Truth.VARIES;
      }
      Truth t = comparison("=", left, item);
      if (t == Truth.TRUE) {
        result = Truth.TRUE;
        break;
      }
      if (t == Truth.VARIES) {
        return Truth.VARIES;
      }
      if (t == Truth.NULL) {
        result = Truth.NULL;
      }
    }
    if (!negated) {
      return result;
    }
    return result == Truth.TRUE ? Truth.FALSE : result == Truth.FALSE ? Truth.TRUE : result;
  }

  private Truth between(String kind, JsonNode left, JsonNode right) {
    JsonNode bounds = right == null ? null : right.path("List").path("items");
    if (bounds == null || bounds.size() != 2) {
      return Truth.VARIES;
    }
    Truth low = comparison(">=", left, bounds.get(0));
    Truth high = comparison("<=", left, bounds.get(1));
    Truth both;
    if (low == Truth.VARIES || high == Truth.VARIES) {
      return Truth.VARIES;
    } else if (low == Truth.FALSE || high == Truth.FALSE) {
      both = Truth.FALSE;
    } else if (low == Truth.NULL || high == Truth.NULL) {
      both = Truth.NULL;
    } else {
      both = Truth.TRUE;
    }
    if (kind.equals("AEXPR_NOT_BETWEEN")) {
      return both == Truth.TRUE ? Truth.FALSE : both == Truth.FALSE ? Truth.TRUE : both;
    }
    return both;
  }

  private Truth like(String op, JsonNode left, JsonNode right) {
    if (op.startsWith("!")
        || !Constants.isConstant(right)
        || left == null
        || !left.has("ColumnRef")) {
      return Truth.VARIES;
    }
    Optional<String> pattern = constants.string(right);
    if (pattern.isPresent()
        && !pattern.get().isEmpty()
        && pattern.get().chars().allMatch(c -> c == '%')) {
      return Truth.TRUE;
    }
    return Truth.VARIES;
  }

  private Truth nullTest(JsonNode body) {
    JsonNode arg = body.get("arg");
    boolean isNotNull = body.path("nulltesttype").asText().equals("IS_NOT_NULL");
    if (Constants.isConstant(arg)) {
      Optional<Constants.Value> v = constants.value(arg);
      if (v.isEmpty()) {
        return Truth.VARIES;
      }
      return v.get().isNull() == isNotNull ? Truth.FALSE : Truth.TRUE;
    }
    if (isNotNull && arg != null && arg.has("ColumnRef")) {
      return Truth.TRUE;
    }
    return Truth.VARIES;
  }

  private Truth booleanTest(JsonNode body) {
    Truth arg = evaluate(body.get("arg"));
    if (arg == Truth.VARIES) {
      return Truth.VARIES;
    }
    boolean result =
        switch (body.path("booltesttype").asText()) {
          case "IS_TRUE" -> arg == Truth.TRUE;
          case "IS_NOT_TRUE" -> arg != Truth.TRUE;
          case "IS_FALSE" -> arg == Truth.FALSE;
          case "IS_NOT_FALSE" -> arg != Truth.FALSE;
          case "IS_UNKNOWN" -> arg == Truth.NULL;
          case "IS_NOT_UNKNOWN" -> arg != Truth.NULL;
          default -> false;
        };
    return result ? Truth.TRUE : Truth.FALSE;
  }

  private static Truth subLink(JsonNode body) {
    if (!body.path("subLinkType").asText().equals("EXISTS_SUBLINK")) {
      return Truth.VARIES;
    }
    JsonNode select = body.path("subselect").path("SelectStmt");
    boolean unconditional =
        select.isObject()
            && !select.has("fromClause")
            && !select.has("whereClause")
            && !select.has("havingClause")
            && !select.has("limitCount")
            && !select.has("limitOffset")
            && !select.has("groupClause")
            && !select.has("valuesLists")
            && select.path("op").asText("SETOP_NONE").equals("SETOP_NONE");
    return unconditional ? Truth.TRUE : Truth.VARIES;
  }

  /**
   * Two expressions are the same if their trees are equal apart from source locations and neither
   * calls a function (a volatile one may differ between calls: {@code random() = random()}). When
   * both hold constants, the answer depends on their values.
   */
  private boolean sameExpression(JsonNode a, JsonNode b) {
    if (a == null || b == null || hasFunction(a) || hasFunction(b)) {
      return false;
    }
    if (hasConstant(a) && hasConstant(b)) {
      constants.markRead();
    }
    return withoutLocations(a).equals(withoutLocations(b));
  }

  private static boolean hasFunction(JsonNode node) {
    if (node.isObject()) {
      if (node.has("FuncCall") || node.has("SubLink")) {
        return true;
      }
    }
    for (JsonNode child : node) {
      if (hasFunction(child)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasConstant(JsonNode node) {
    if (node.isObject() && node.has("A_Const")) {
      return true;
    }
    for (JsonNode child : node) {
      if (hasConstant(child)) {
        return true;
      }
    }
    return false;
  }

  private static JsonNode withoutLocations(JsonNode node) {
    if (node.isObject()) {
      ObjectNode copy = ((ObjectNode) node).objectNode();
      Iterator<Map.Entry<String, JsonNode>> fields = node.properties().iterator();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        if (!field.getKey().equals("location")) {
          copy.set(field.getKey(), withoutLocations(field.getValue()));
        }
      }
      return copy;
    }
    if (node.isArray()) {
      var copy = ((com.fasterxml.jackson.databind.node.ArrayNode) node).arrayNode();
      for (JsonNode child : node) {
        copy.add(withoutLocations(child));
      }
      return copy;
    }
    return node;
  }
}
