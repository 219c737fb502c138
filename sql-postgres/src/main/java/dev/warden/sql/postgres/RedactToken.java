package dev.warden.sql.postgres;

/**
 * A lexer token with its place in chars of the Java string (libpg_query reports UTF-8 bytes).
 *
 * @param start first char
 * @param end char after the last
 * @param type the token's number in pg_query.proto's {@code Token} enum
 * @param keywordKind 0 for no keyword, else the keyword's category
 */
record RedactToken(int start, int end, int type, int keywordKind) {
  boolean isComment() {
    return PgTokens.isComment(type);
  }
}
