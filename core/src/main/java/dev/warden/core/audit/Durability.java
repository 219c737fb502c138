package dev.warden.core.audit;

/** How soon a record must be on disk, and so how long the statement behind it waits. */
public enum Durability {
  /**
   * Durable (fsynced, group commit) before the append completes: for statements that change data,
   * schema, privileges or settings, for approvals and break-glass, and for every statement in
   * strict mode. The statement is not forwarded until then.
   */
  IMMEDIATE,

  /**
   * Written at once and made durable within the trail's bounded window (a few milliseconds by
   * default, see {@code docs/audit.md}), so that plain reads do not each wait for an fsync. The
   * statement goes ahead as soon as the record is accepted; the trail never drops it.
   */
  BOUNDED
}
