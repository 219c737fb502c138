package dev.warden.core.gate;

/** Which protocol path carried a statement to Warden. */
public enum StatementPath {
  /** A simple query: text that may hold several statements, run at once. */
  SIMPLE,
  /** A statement prepared in the extended protocol, to be bound and executed later. */
  PREPARED,
  /** A call of a function by object id, outside SQL. */
  FUNCTION_CALL
}
