package dev.warden.proxy.postgres;

import dev.warden.core.gate.Decision;
import dev.warden.core.masking.ColumnMask;
import dev.warden.core.masking.ResultMasking;
import java.util.ArrayList;
import java.util.List;

/**
 * The masking of a portal that may run any of several statements (a named statement redefined while
 * the server may have kept an earlier definition, see {@link StatementNames}): a column is masked
 * if any of them would mask it, so whichever one runs, nothing passes that should not.
 */
final class CombinedMasking implements ResultMasking {
  private final List<ResultMasking> parts;

  private CombinedMasking(List<ResultMasking> parts) {
    this.parts = parts;
  }

  /** The masking for running one of {@code decisions}. */
  static ResultMasking of(List<Decision> decisions) {
    if (decisions.size() == 1) {
      return decisions.getFirst().masking();
    }
    List<ResultMasking> active = new ArrayList<>();
    for (Decision d : decisions) {
      if (d.masking().active()) {
        active.add(d.masking());
      }
    }
    return switch (active.size()) {
      case 0 -> ResultMasking.NONE;
      case 1 -> active.getFirst();
      default -> new CombinedMasking(List.copyOf(active));
    };
  }

  @Override
  public boolean active() {
    return true;
  }

  @Override
  public boolean inspectsResults() {
    for (ResultMasking m : parts) {
      if (m.inspectsResults()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public ColumnMask column(long relationId, int column) {
    for (ResultMasking m : parts) {
      ColumnMask mask = m.column(relationId, column);
      if (mask != null) {
        return mask;
      }
    }
    return null;
  }

  @Override
  public ColumnMask computed() {
    for (ResultMasking m : parts) {
      ColumnMask mask = m.computed();
      if (mask != null) {
        return mask;
      }
    }
    return null;
  }

  @Override
  public ColumnMask backstop(String value) {
    return parts.getFirst().backstop(value);
  }

  @Override
  public boolean scrubErrors() {
    for (ResultMasking m : parts) {
      if (m.scrubErrors()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String scrubText(String text) {
    return parts.getFirst().scrubText(text);
  }
}
