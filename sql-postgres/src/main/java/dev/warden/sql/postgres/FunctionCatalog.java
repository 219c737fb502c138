package dev.warden.sql.postgres;

import dev.warden.core.statement.StatementFlag;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one list of functions whose call alone says something policy cares about. Looked up by the
 * function's unqualified name, whatever schema the text names (extensions live in any schema, and
 * {@code pg_catalog} is searched first anyway). User-defined functions are not here: policy treats
 * functions it does not know by name.
 */
final class FunctionCatalog {
  /** What calling a function does beyond computing a value. */
  record Effects(Set<StatementFlag> flags, boolean writes) {}

  private static final Effects NONE = new Effects(Set.of(), false);
  private static final Map<String, Effects> EFFECTS = new HashMap<>();

  static {
    // Signal or stop other backends, or the server itself.
    side("pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend", "pg_reload_conf");
    side("pg_rotate_logfile", "pg_promote", "pg_log_backend_memory_contexts");
    // Read or list files on the database server.
    side("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir");
    side("pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_ls_logicalsnapdir");
    side("pg_ls_logicalmapdir", "pg_ls_replslotdir", "pg_current_logfile");
    // Write, rename or delete server files (core large objects; adminpack).
    side("lo_import", "lo_export", "pg_file_write", "pg_file_rename", "pg_file_unlink");
    side("pg_file_sync", "pg_logdir_ls");
    // Change large objects: rows of pg_largeobject.
    write("lo_unlink", "lo_create", "lo_creat", "lo_put", "lo_from_bytea", "lowrite");
    write("lo_truncate", "lo_truncate64");
    // WAL, backups, replication and recovery control.
    side("pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop");
    side("pg_start_backup", "pg_stop_backup", "pg_wal_replay_pause", "pg_wal_replay_resume");
    side("pg_create_physical_replication_slot", "pg_create_logical_replication_slot");
    side("pg_drop_replication_slot", "pg_copy_physical_replication_slot");
    side("pg_copy_logical_replication_slot", "pg_replication_slot_advance");
    side("pg_logical_slot_get_changes", "pg_logical_slot_get_binary_changes");
    side("pg_logical_emit_message", "pg_replication_origin_create");
    side("pg_replication_origin_drop", "pg_replication_origin_session_setup");
    side("pg_replication_origin_advance", "pg_import_system_collations");
    // Statistics resets and the like: server-wide state.
    side("pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters");
    side("pg_stat_reset_single_function_counters", "pg_stat_reset_slru");
    side("pg_stat_reset_replication_slot", "pg_stat_reset_subscription_stats");
    side("pg_stat_statements_reset");
    // Hold a backend (and its locks) for as long as the caller likes.
    side("pg_sleep", "pg_sleep_for", "pg_sleep_until");
    // Change a setting (what setting is judged from the arguments, see set_config handling).
    side("set_config");
    // Notifications reach other sessions.
    side("pg_notify");
    // Assign a transaction id: a read-only-looking statement makes the transaction write WAL.
    side("txid_current", "pg_current_xact_id");
    // Explicit locks that outlive the statement.
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_advisory_lock", "pg_advisory_lock_shared");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_advisory_xact_lock");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_advisory_xact_lock_shared");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_try_advisory_lock");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_try_advisory_lock_shared");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_try_advisory_xact_lock");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_try_advisory_xact_lock_shared");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_advisory_unlock", "pg_advisory_unlock_all");
    flags(EnumSet.of(StatementFlag.LOCKS), false, "pg_advisory_unlock_shared");
    // Sequences: the sequence named by the argument is written.
    flags(EnumSet.noneOf(StatementFlag.class), true, "nextval", "setval");
    // Run SQL given as text, here or on another server (dblink, tablefunc, xml and text search).
    // dblink may connect back to this very database, so its statements count as writes.
    EnumSet<StatementFlag> dynamic = EnumSet.of(StatementFlag.DYNAMIC_SQL);
    EnumSet<StatementFlag> remote =
        EnumSet.of(StatementFlag.DYNAMIC_SQL, StatementFlag.SIDE_EFFECTS);
    flags(remote, true, "dblink_exec", "dblink", "dblink_send_query", "dblink_open");
    flags(remote, false, "dblink_connect", "dblink_connect_u", "dblink_fetch");
    flags(dynamic, false, "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema");
    flags(dynamic, false, "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema");
    flags(dynamic, false, "cursor_to_xml", "schema_to_xml", "schema_to_xmlschema");
    flags(dynamic, false, "schema_to_xml_and_xmlschema", "database_to_xml");
    flags(dynamic, false, "database_to_xmlschema", "database_to_xml_and_xmlschema");
    flags(dynamic, false, "ts_stat", "crosstab", "crosstab2", "crosstab3", "crosstab4");
    flags(dynamic, false, "connectby");
  }

  private FunctionCatalog() {}

  private static void side(String... names) {
    flags(EnumSet.of(StatementFlag.SIDE_EFFECTS), false, names);
  }

  private static void write(String... names) {
    flags(EnumSet.noneOf(StatementFlag.class), true, names);
  }

  private static void flags(Set<StatementFlag> flags, boolean writes, String... names) {
    for (String name : names) {
      EFFECTS.put(name, new Effects(Set.copyOf(flags), writes));
    }
  }

  /** {@code schema.name} of every function built into PostgreSQL 15 (see the resource's header). */
  private static final Set<String> BUILTIN = loadBuiltins();

  private static Set<String> loadBuiltins() {
    try (InputStream in = FunctionCatalog.class.getResourceAsStream("builtin-functions.txt")) {
      if (in == null) {
        throw new IllegalStateException("builtin-functions.txt is missing from the jar");
      }
      Set<String> names = new HashSet<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          names.add(line.strip());
        }
      }
      return Set.copyOf(names);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * True if the function {@code names} (its qualified name as written) is one PostgreSQL ships:
   * unqualified and in {@code pg_catalog} (which the server searches first unless the search path
   * names it later), or qualified with {@code pg_catalog} or {@code information_schema}. Anything
   * else is user-defined or from an extension, and may do anything.
   */
  static boolean builtin(List<String> names) {
    if (names.size() == 1) {
      return BUILTIN.contains("pg_catalog." + names.get(0));
    }
    if (names.size() == 2) {
      return BUILTIN.contains(names.get(0) + "." + names.get(1));
    }
    return false;
  }

  /** The effects of calling {@code name} (unqualified, lower case); none for other functions. */
  static Effects effects(String name) {
    return EFFECTS.getOrDefault(name, NONE);
  }
}
