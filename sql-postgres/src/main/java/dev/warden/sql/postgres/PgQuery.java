package dev.warden.sql.postgres;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The binding to libpg_query (PostgreSQL 15's own lexer and parser, as a C library) through the FFM
 * API: no JNI, no generated code, just the five calls the analyser needs and their frees.
 *
 * <p>libpg_query keeps its memory contexts per thread, so every call may run on any thread at the
 * same time. Every result the library allocates is freed before the call returns; nothing native
 * outlives a call. Text is passed as NUL-terminated UTF-8, so callers must refuse text holding a
 * NUL character (the library would see only the part before it).
 */
// Restricted methods (library lookup, downcalls, reinterpreting native pointers) are the point of
// this class; the launcher and the tests grant native access (--enable-native-access).
@SuppressWarnings("restricted")
final class PgQuery {
  /** The Debian package that installs the library. */
  static final String PACKAGE_HINT = "apt-get install libpg-query-dev";

  private static final String PROPERTY = "warden.pgquery.library";
  private static final String ENVIRONMENT = "WARDEN_PGQUERY_LIBRARY";
  private static final List<String> DEFAULT_NAMES =
      List.of(
          "/usr/lib/x86_64-linux-gnu/libpg_query.so",
          "/usr/lib/x86_64-linux-gnu/libpg_query.so.1504.0",
          "/usr/lib/aarch64-linux-gnu/libpg_query.so",
          "/usr/lib/aarch64-linux-gnu/libpg_query.so.1504.0",
          "libpg_query.so",
          "libpg_query.so.1504.0");

  // Struct layouts from pg_query.h (libpg_query 15-4.0.0), on LP64.
  private static final StructLayout ERROR =
      MemoryLayout.structLayout(
          ADDRESS.withName("message"),
          ADDRESS.withName("funcname"),
          ADDRESS.withName("filename"),
          JAVA_INT.withName("lineno"),
          JAVA_INT.withName("cursorpos"),
          ADDRESS.withName("context"));
  private static final StructLayout PARSE_RESULT =
      MemoryLayout.structLayout(
          ADDRESS.withName("parse_tree"),
          ADDRESS.withName("stderr_buffer"),
          ADDRESS.withName("error"));
  private static final StructLayout SCAN_RESULT =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("len"),
          ADDRESS.withName("data"),
          ADDRESS.withName("stderr_buffer"),
          ADDRESS.withName("error"));
  private static final StructLayout SPLIT_RESULT =
      MemoryLayout.structLayout(
          ADDRESS.withName("stmts"),
          JAVA_INT.withName("n_stmts"),
          MemoryLayout.paddingLayout(4),
          ADDRESS.withName("stderr_buffer"),
          ADDRESS.withName("error"));
  private static final StructLayout FINGERPRINT_RESULT =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("fingerprint"),
          ADDRESS.withName("fingerprint_str"),
          ADDRESS.withName("stderr_buffer"),
          ADDRESS.withName("error"));

  private static final long PARSE_TREE = 0;
  private static final long PARSE_ERROR = 16;
  private static final long SCAN_LEN = 0;
  private static final long SCAN_DATA = 8;
  private static final long SCAN_ERROR = 24;
  private static final long SPLIT_STMTS = 0;
  private static final long SPLIT_COUNT = 8;
  private static final long SPLIT_ERROR = 24;
  private static final long FINGERPRINT_STR = 8;
  private static final long FINGERPRINT_ERROR = 24;
  private static final long ERROR_MESSAGE = 0;
  private static final long ERROR_CURSOR = 28;

  private final MethodHandle parse;
  private final MethodHandle freeParse;
  private final MethodHandle scan;
  private final MethodHandle freeScan;
  private final MethodHandle split;
  private final MethodHandle freeSplit;
  private final MethodHandle fingerprint;
  private final MethodHandle freeFingerprint;
  private final SymbolLookup library;

  private PgQuery(SymbolLookup library) {
    this.library = library;
    Linker linker = Linker.nativeLinker();
    parse = downcall(linker, library, "pg_query_parse", PARSE_RESULT);
    freeParse = free(linker, library, "pg_query_free_parse_result", PARSE_RESULT);
    scan = downcall(linker, library, "pg_query_scan", SCAN_RESULT);
    freeScan = free(linker, library, "pg_query_free_scan_result", SCAN_RESULT);
    split = downcall(linker, library, "pg_query_split_with_parser", SPLIT_RESULT);
    freeSplit = free(linker, library, "pg_query_free_split_result", SPLIT_RESULT);
    fingerprint = downcall(linker, library, "pg_query_fingerprint", FINGERPRINT_RESULT);
    freeFingerprint = free(linker, library, "pg_query_free_fingerprint_result", FINGERPRINT_RESULT);
  }

  /**
   * Loads the library: the path in the system property {@code warden.pgquery.library} or the
   * environment variable {@code WARDEN_PGQUERY_LIBRARY} if set, else Debian's file names.
   *
   * @throws PgQueryUnavailableException if it cannot be found or lacks a function
   */
  static PgQuery load() {
    String configured = System.getProperty(PROPERTY);
    if (configured == null || configured.isBlank()) {
      configured = System.getenv(ENVIRONMENT);
    }
    if (configured != null && !configured.isBlank()) {
      Path path = Path.of(configured);
      if (!Files.isReadable(path)) {
        throw new PgQueryUnavailableException(
            "libpg_query not found at "
                + configured
                + " (set by "
                + PROPERTY
                + " or "
                + ENVIRONMENT
                + "); install it with `"
                + PACKAGE_HINT
                + "` or point the setting at libpg_query.so");
      }
      return bind(SymbolLookup.libraryLookup(path, Arena.global()), configured);
    }
    List<String> failures = new ArrayList<>();
    for (String name : DEFAULT_NAMES) {
      if (name.startsWith("/") && !Files.isReadable(Path.of(name))) {
        continue;
      }
      try {
        SymbolLookup lookup =
            name.startsWith("/")
                ? SymbolLookup.libraryLookup(Path.of(name), Arena.global())
                : SymbolLookup.libraryLookup(name, Arena.global());
        return bind(lookup, name);
      } catch (IllegalArgumentException e) {
        failures.add(name);
      }
    }
    throw new PgQueryUnavailableException(
        "libpg_query (PostgreSQL's parser as a library) is not installed: install it with `"
            + PACKAGE_HINT
            + "`, or set "
            + PROPERTY
            + " / "
            + ENVIRONMENT
            + " to the full path of libpg_query.so (tried "
            + String.join(", ", DEFAULT_NAMES)
            + ")");
  }

  private static PgQuery bind(SymbolLookup lookup, String name) {
    try {
      return new PgQuery(lookup);
    } catch (PgQueryUnavailableException e) {
      throw new PgQueryUnavailableException(
          name + " is not a usable libpg_query 15: " + e.getMessage() + "; " + PACKAGE_HINT);
    }
  }

  private static MethodHandle downcall(
      Linker linker, SymbolLookup library, String name, StructLayout result) {
    return linker.downcallHandle(symbol(library, name), FunctionDescriptor.of(result, ADDRESS));
  }

  private static MethodHandle free(
      Linker linker, SymbolLookup library, String name, StructLayout argument) {
    return linker.downcallHandle(symbol(library, name), FunctionDescriptor.ofVoid(argument));
  }

  private static MemorySegment symbol(SymbolLookup library, String name) {
    return library
        .find(name)
        .orElseThrow(() -> new PgQueryUnavailableException("missing function " + name));
  }

  /** A syntax error (or any other error) the library reported, with its 1-based cursor. */
  record Failure(String message, int cursorPosition) {
    /**
     * The error as a reason for an unknown statement, without the text the library quotes from the
     * statement ({@code at or near "..."}): the reason is recorded in the audit trail unredacted,
     * and the quoted text may be a mistyped secret ({@code PASSWORD 'hunter2} with its closing
     * quote missing). The character position says where instead.
     */
    String describe() {
      String safe = message;
      int near = safe.indexOf(" at or near ");
      if (near >= 0) {
        safe = safe.substring(0, near);
      }
      int quote = firstQuote(safe);
      if (quote >= 0) {
        safe = safe.substring(0, quote).stripTrailing();
      }
      return cursorPosition > 0 ? safe + " (at character " + cursorPosition + ")" : safe;
    }

    private static int firstQuote(String s) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '"' || c == '\'' || c == '$') {
          return i;
        }
      }
      return -1;
    }
  }

  /** Either a parse tree as JSON, or the library's error. */
  record ParseResult(Optional<String> json, Optional<Failure> error) {}

  /** Either tokens, or the library's error. */
  record ScanResult(List<Token> tokens, Optional<Failure> error) {}

  /**
   * One token of the lexer.
   *
   * @param start byte offset of its first byte in the UTF-8 text
   * @param end byte offset after its last byte
   * @param token the token's number in pg_query.proto's {@code Token} enum
   * @param keywordKind 0 for no keyword, else the keyword's category
   */
  record Token(int start, int end, int token, int keywordKind) {}

  /** A statement's place in the UTF-8 text, in bytes. */
  record Span(int location, int length) {}

  /** Parses {@code sql} into libpg_query's JSON parse tree. */
  ParseResult parse(String sql) {
    return call(
        parse,
        freeParse,
        sql,
        result -> {
          Optional<Failure> error = error(result.get(ADDRESS, PARSE_ERROR));
          if (error.isPresent()) {
            return new ParseResult(Optional.empty(), error);
          }
          return new ParseResult(Optional.of(string(result.get(ADDRESS, PARSE_TREE))), error);
        });
  }

  /** Lexes {@code sql} exactly as the server does (standard_conforming_strings on, UTF-8). */
  ScanResult scan(String sql) {
    return call(
        scan,
        freeScan,
        sql,
        result -> {
          Optional<Failure> error = error(result.get(ADDRESS, SCAN_ERROR));
          if (error.isPresent()) {
            return new ScanResult(List.of(), error);
          }
          long length = result.get(JAVA_LONG, SCAN_LEN);
          MemorySegment data = result.get(ADDRESS, SCAN_DATA).reinterpret(length);
          return new ScanResult(ScanProtobuf.tokens(data), Optional.empty());
        });
  }

  /**
   * Lexes {@code sql} as a server with {@code standard_conforming_strings = off} does (a backslash
   * escapes in every {@code '...'} literal), for the redactor. The setting is libpg_query's
   * thread-local copy of the GUC, read when a scan starts: it is cleared for this one call and
   * restored before returning, so other calls on this thread still lex with standard strings.
   *
   * <p>Platform threads only: dlsym resolves a thread-local symbol for the calling OS thread, and a
   * virtual thread could move to another carrier between the lookup and the scan.
   *
   * @throws IllegalStateException on a virtual thread, or if the library has no such setting
   */
  ScanResult scanWithoutStandardStrings(String sql) {
    if (Thread.currentThread().isVirtual()) {
      throw new IllegalStateException("lexing without standard strings needs a platform thread");
    }
    MemorySegment flag =
        library
            .find("standard_conforming_strings")
            .orElseThrow(
                () -> new IllegalStateException("libpg_query has no standard_conforming_strings"))
            .reinterpret(1);
    flag.set(JAVA_BYTE, 0, (byte) 0);
    try {
      return scan(sql);
    } finally {
      flag.set(JAVA_BYTE, 0, (byte) 1);
    }
  }

  /** Where each statement of {@code sql} starts and ends, by the parser's reckoning. */
  List<Span> split(String sql) {
    return call(
        split,
        freeSplit,
        sql,
        result -> {
          Optional<Failure> error = error(result.get(ADDRESS, SPLIT_ERROR));
          if (error.isPresent()) {
            throw new IllegalArgumentException(error.get().describe());
          }
          int count = result.get(JAVA_INT, SPLIT_COUNT);
          MemorySegment stmts =
              result.get(ADDRESS, SPLIT_STMTS).reinterpret(ADDRESS.byteSize() * count);
          List<Span> spans = new ArrayList<>(count);
          for (int i = 0; i < count; i++) {
            MemorySegment stmt = stmts.getAtIndex(ADDRESS, i).reinterpret(8);
            spans.add(new Span(stmt.get(JAVA_INT, 0), stmt.get(JAVA_INT, 4)));
          }
          return spans;
        });
  }

  /** libpg_query's own fingerprint (hex), or its error. */
  String fingerprint(String sql) {
    return call(
        fingerprint,
        freeFingerprint,
        sql,
        result -> {
          Optional<Failure> error = error(result.get(ADDRESS, FINGERPRINT_ERROR));
          if (error.isPresent()) {
            throw new IllegalArgumentException(error.get().describe());
          }
          return string(result.get(ADDRESS, FINGERPRINT_STR));
        });
  }

  /** Reads what a libpg_query function returned, before Warden frees it. */
  private interface ResultReader<T> {
    T read(MemorySegment result);
  }

  /**
   * Calls {@code function} (which takes the text and returns a result struct by value), reads the
   * result with {@code read} and frees it with {@code free}, whatever {@code read} does.
   */
  private static <T> T call(
      MethodHandle function, MethodHandle free, String sql, ResultReader<T> read) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment result =
          (MemorySegment) function.invokeExact((SegmentAllocator) arena, text(arena, sql));
      try {
        return read.read(result);
      } finally {
        free.invokeExact(result);
      }
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static MemorySegment text(Arena arena, String sql) {
    if (sql.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("text holds a NUL character");
    }
    return arena.allocateFrom(sql, StandardCharsets.UTF_8);
  }

  private static Optional<Failure> error(MemorySegment pointer) {
    if (pointer.equals(MemorySegment.NULL)) {
      return Optional.empty();
    }
    MemorySegment error = pointer.reinterpret(ERROR.byteSize());
    String message = string(error.get(ADDRESS, ERROR_MESSAGE));
    return Optional.of(new Failure(message, error.get(JAVA_INT, ERROR_CURSOR)));
  }

  private static String string(MemorySegment pointer) {
    if (pointer.equals(MemorySegment.NULL)) {
      return "";
    }
    return pointer.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof java.lang.Error e) {
      throw e;
    }
    throw new IllegalStateException("libpg_query call failed", t);
  }
}
