package dev.warden.proxy.postgres;

import java.util.List;

/** What masking did to the values of one result as it went by, for the statement's audit record. */
interface MaskedValues {
  /** The names of the columns that had values masked so far. */
  List<String> maskedColumns();

  /** How many values were masked so far, in all. */
  long maskedValues();
}
