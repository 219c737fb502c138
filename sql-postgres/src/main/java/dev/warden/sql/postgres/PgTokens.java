package dev.warden.sql.postgres;

/** The numbers of the lexer tokens Warden looks at, from pg_query.proto's {@code Token} enum. */
final class PgTokens {
  static final int IDENT = 258;
  static final int UIDENT = 259;
  static final int FCONST = 260;
  static final int SCONST = 261;
  static final int USCONST = 262;
  static final int BCONST = 263;
  static final int XCONST = 264;
  static final int ICONST = 266;
  static final int SQL_COMMENT = 275;
  static final int C_COMMENT = 276;
  static final int SELECT = 625;
  static final int UESCAPE = 685;

  private PgTokens() {}

  /** A literal constant: its value, never its kind, may differ between texts of one L2 key. */
  static boolean isConstant(int token) {
    return token == FCONST
        || token == SCONST
        || token == USCONST
        || token == BCONST
        || token == XCONST
        || token == ICONST;
  }

  static boolean isComment(int token) {
    return token == SQL_COMMENT || token == C_COMMENT;
  }
}
