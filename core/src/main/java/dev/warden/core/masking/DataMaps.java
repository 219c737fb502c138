package dev.warden.core.masking;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The data maps of every environment's databases: built when a database is first used, rebuilt when
 * its schema changes, shared by every session. Implemented per database engine (the catalogue and
 * sampling queries are engine-specific); the proxy and the decision point see only this port.
 *
 * <p>Methods are called on event loops and must not block.
 */
public interface DataMaps {
  /**
   * The map of {@code database} in {@code environment} once it is usable: at once when it is
   * current, else when the build (or the rebuild after {@link #schemaChanged}) finishes. Fails when
   * the map cannot be built (the database cannot be reached, the catalogue cannot be read);
   * sampling failures of single relations do not fail it.
   */
  CompletableFuture<DataMap> ready(String environment, String database);

  /** The last map built for {@code database}, even if a rebuild is under way; empty before one. */
  Optional<DataMap> current(String environment, String database);

  /**
   * A schema change was allowed through Warden (or seen otherwise): rebuild the map; {@link #ready}
   * waits for the rebuild.
   */
  void schemaChanged(String environment, String database);

  /**
   * A result named relation {@code id}, which the current map does not have (created around Warden
   * since the last build): rebuild soon. The caller masks that relation's columns meanwhile.
   */
  void unknownRelation(String environment, String database, long id);

  /** No data maps: nothing is ever classified. For tests and for environments without masking. */
  DataMaps NONE =
      new DataMaps() {
        @Override
        public CompletableFuture<DataMap> ready(String environment, String database) {
          return CompletableFuture.completedFuture(
              DataMap.of(environment, database, 0, java.time.Instant.EPOCH, java.util.List.of()));
        }

        @Override
        public Optional<DataMap> current(String environment, String database) {
          return Optional.empty();
        }

        @Override
        public void schemaChanged(String environment, String database) {}

        @Override
        public void unknownRelation(String environment, String database, long id) {}
      };
}
