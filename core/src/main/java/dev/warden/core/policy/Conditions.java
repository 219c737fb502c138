package dev.warden.core.policy;

import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.CelValidationException;
import dev.cel.common.ast.CelReference;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.SimpleType;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelRuntime;
import dev.warden.core.statement.TableRef;
import java.net.InetAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CEL environment policy conditions are compiled in: the variables a condition may read, the
 * helper functions, and the limits that keep a condition cheap. Every variable is declared with its
 * type, so a misspelt name or a comparison of a list with a string is a load error, not a surprise
 * at run time.
 */
final class Conditions {
  /** Longest condition accepted, in code points. */
  static final int MAX_LENGTH = 4096;

  static final String REQUEST_TIME = "request.time";

  /** The rows a statement waiting for approval would change: only in automatic approvals. */
  static final String ROWS = "rows";

  /** The requester's reason for a statement waiting for approval: only in automatic approvals. */
  static final String REQUEST_REASON = "request.reason";

  /** The variables only an automatic approval's condition may read. */
  static final Set<String> APPROVAL_ONLY = Set.of(REQUEST_REASON, ROWS);

  private static final CelType STRINGS = ListType.create(SimpleType.STRING);

  /** Every variable and its type, in the order docs/policy.md lists them. */
  static final Map<String, CelType> VARIABLES = variables();

  private final Cel cel;

  /** The environment is immutable and costly to build (about a second on first use): share it. */
  private static final class Shared {
    static final Conditions INSTANCE = new Conditions();
  }

  static Conditions shared() {
    return Shared.INSTANCE;
  }

  private Conditions() {
    CelOptions options =
        CelOptions.current()
            .maxExpressionCodePointSize(MAX_LENGTH)
            .comprehensionMaxIterations(10_000)
            .enableHeterogeneousNumericComparisons(true)
            .build();
    var builder =
        CelFactory.standardCelBuilder()
            .setOptions(options)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addCompilerLibraries(CelExtensions.strings(), CelExtensions.sets(options))
            .addRuntimeLibraries(CelExtensions.strings(), CelExtensions.sets(options))
            .setResultType(SimpleType.BOOL)
            .addFunctionDeclarations(
                CelFunctionDecl.newFunctionDeclaration(
                    "table_matches",
                    CelOverloadDecl.newGlobalOverload(
                        "table_matches_string_string",
                        SimpleType.BOOL,
                        SimpleType.STRING,
                        SimpleType.STRING)),
                CelFunctionDecl.newFunctionDeclaration(
                    "any_table_matches",
                    CelOverloadDecl.newGlobalOverload(
                        "any_table_matches_list_string",
                        SimpleType.BOOL,
                        STRINGS,
                        SimpleType.STRING)),
                CelFunctionDecl.newFunctionDeclaration(
                    "ip_in",
                    CelOverloadDecl.newGlobalOverload(
                        "ip_in_string_string",
                        SimpleType.BOOL,
                        SimpleType.STRING,
                        SimpleType.STRING)))
            .addFunctionBindings(
                CelFunctionBinding.from(
                    "table_matches_string_string",
                    String.class,
                    String.class,
                    Conditions::tableMatches),
                CelFunctionBinding.from(
                    "any_table_matches_list_string",
                    List.class,
                    String.class,
                    (tables, pattern) -> anyTableMatches(tables, pattern)),
                CelFunctionBinding.from(
                    "ip_in_string_string", String.class, String.class, Conditions::ipIn));
    for (Map.Entry<String, CelType> v : VARIABLES.entrySet()) {
      builder.addVar(v.getKey(), v.getValue());
    }
    this.cel = builder.build();
  }

  /** A compiled condition, or why it does not compile. */
  sealed interface Compiled {
    /**
     * @param variables every variable the condition reads, by its full name ({@code
     *     statement.kind}), sorted: what an access rule may not read is refused by it
     */
    record Ok(CelRuntime.Program program, boolean readsTime, Set<String> variables)
        implements Compiled {
      public Ok {
        variables = Collections.unmodifiableSortedSet(new TreeSet<>(variables));
      }
    }

    record Error(String reason) implements Compiled {}
  }

  Compiled compile(String condition) {
    if (condition.codePointCount(0, condition.length()) > MAX_LENGTH) {
      return new Compiled.Error("the condition is longer than " + MAX_LENGTH + " characters");
    }
    try {
      CelAbstractSyntaxTree ast = cel.compile(condition).getAst();
      Set<String> variables = new TreeSet<>();
      for (CelReference reference : ast.getReferenceMap().values()) {
        if (VARIABLES.containsKey(reference.name())) {
          variables.add(reference.name());
        }
      }
      return new Compiled.Ok(cel.createProgram(ast), variables.contains(REQUEST_TIME), variables);
    } catch (CelValidationException e) {
      return new Compiled.Error(compileMessage(e));
    } catch (CelEvaluationException e) {
      return new Compiled.Error("the condition cannot be prepared: " + e.getMessage());
    } catch (RuntimeException e) {
      // CEL's compiler is a library we do not control: whatever it throws is a bad condition.
      return new Compiled.Error("the condition cannot be compiled: " + e);
    }
  }

  /**
   * CEL's messages start with {@code ERROR: <input>:line:col:} and quote the condition with a
   * caret; the position is kept, the input name dropped (the rule's own location comes first).
   */
  private static String compileMessage(CelValidationException e) {
    String text = e.getMessage() == null ? "invalid condition" : e.getMessage();
    text = text.replace("ERROR: <input>:", "condition ").replace(" (in container '')", "");
    // A misspelt variable (statement.knd) reads to CEL as an unknown name "statement".
    Matcher m = UNDECLARED.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String prefix = m.group(1) + ".";
      List<String> known = VARIABLES.keySet().stream().filter(v -> v.startsWith(prefix)).toList();
      m.appendReplacement(
          out,
          Matcher.quoteReplacement(
              known.isEmpty()
                  ? m.group()
                  : "no such variable; the "
                      + prefix
                      + "* variables are "
                      + String.join(", ", known)));
    }
    m.appendTail(out);
    return out.toString().strip();
  }

  private static final Pattern UNDECLARED = Pattern.compile("undeclared reference to '([a-z]+)'");

  private static Map<String, CelType> variables() {
    Map<String, CelType> v = new LinkedHashMap<>();
    v.put("identity.name", SimpleType.STRING);
    v.put("identity.groups", STRINGS);
    v.put("identity.method", SimpleType.STRING);
    v.put("identity.on_behalf_of", SimpleType.STRING);
    v.put("env.name", SimpleType.STRING);
    v.put("env.tags", STRINGS);
    v.put("session.database", SimpleType.STRING);
    v.put("session.application", SimpleType.STRING);
    v.put("session.source", SimpleType.STRING);
    v.put(REQUEST_TIME, SimpleType.TIMESTAMP);
    v.put("request.path", SimpleType.STRING);
    v.put(REQUEST_REASON, SimpleType.STRING);
    v.put("statement.kind", SimpleType.STRING);
    v.put("statement.command", SimpleType.STRING);
    v.put("statement.tables", STRINGS);
    v.put("statement.tables_read", STRINGS);
    v.put("statement.tables_written", STRINGS);
    v.put("statement.columns", STRINGS);
    v.put("statement.columns_read", STRINGS);
    v.put("statement.columns_written", STRINGS);
    v.put("statement.columns_computed", STRINGS);
    v.put("statement.columns_filtered", STRINGS);
    v.put("statement.functions", STRINGS);
    v.put("statement.flags", STRINGS);
    v.put("statement.has_where", SimpleType.BOOL);
    v.put("statement.where_trivially_true", SimpleType.BOOL);
    v.put("statement.unknown_reason", SimpleType.STRING);
    v.put("statement.multi_statement", SimpleType.BOOL);
    v.put(ROWS, SimpleType.INT);
    return Collections.unmodifiableMap(v);
  }

  // ---- helper functions ----------------------------------------------------------------------

  /**
   * {@code table_matches("public.orders", "orders")}: whether a qualified name as the statement
   * variables show it can denote the relation a pattern names ({@link TableRef#matches}).
   */
  static boolean tableMatches(String table, String pattern) {
    int dot = table.lastIndexOf('.');
    TableRef ref =
        dot < 0
            ? TableRef.unqualified(table)
            : new TableRef(table.substring(0, dot), table.substring(dot + 1));
    return ref.matches(pattern);
  }

  private static boolean anyTableMatches(List<?> tables, String pattern) {
    for (Object table : tables) {
      if (table instanceof String name && tableMatches(name, pattern)) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code ip_in(session.source, "10.0.0.0/8")}: whether an address lies in a CIDR block (or equals
   * a single address). Only literal addresses are read; nothing is resolved.
   */
  static boolean ipIn(String address, String block) throws CelEvaluationException {
    int slash = block.indexOf('/');
    InetAddress network = literal(slash < 0 ? block : block.substring(0, slash), block);
    int bits = network.getAddress().length * 8;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(block.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new CelEvaluationException("ip_in: bad prefix length in '" + block + "'");
      }
      if (prefix < 0 || prefix > bits) {
        throw new CelEvaluationException("ip_in: bad prefix length in '" + block + "'");
      }
    }
    InetAddress candidate;
    try {
      candidate = InetAddress.ofLiteral(address);
    } catch (IllegalArgumentException e) {
      return false; // not an IP address (e.g. a Unix socket): in no block
    }
    byte[] a = candidate.getAddress();
    byte[] n = network.getAddress();
    if (a.length != n.length) {
      return false;
    }
    for (int i = 0; i < prefix; i++) {
      int mask = 0x80 >>> (i % 8);
      if ((a[i / 8] & mask) != (n[i / 8] & mask)) {
        return false;
      }
    }
    return true;
  }

  private static InetAddress literal(String text, String block) throws CelEvaluationException {
    try {
      return InetAddress.ofLiteral(text);
    } catch (IllegalArgumentException e) {
      throw new CelEvaluationException("ip_in: '" + block + "' is not an address or CIDR block");
    }
  }
}
