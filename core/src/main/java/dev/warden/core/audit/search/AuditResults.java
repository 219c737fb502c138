package dev.warden.core.audit.search;

import java.util.List;

/**
 * What a search found.
 *
 * @param hits the results, newest first
 * @param more true when more results matched than the limit let through
 */
public record AuditResults(List<AuditHit> hits, boolean more) {
  public AuditResults {
    hits = List.copyOf(hits);
  }
}
