package dev.warden.server.datamap;

import java.time.Duration;
import java.time.Instant;

/**
 * What one data map build did and cost, for {@code warden datamap}, logs and tests.
 *
 * @param environment the environment's name
 * @param database the database, as clients name it
 * @param version the map's version
 * @param builtAt when the catalogue was read
 * @param took how long the build took, connection included
 * @param relations relations mapped
 * @param sensitiveColumns columns classified as sensitive
 * @param sampledRelations relations read by a sampling query in this build
 * @param reusedRelations relations whose samples were reused from the previous build (unchanged)
 * @param skippedRelations relations whose sampling query failed (permission, timeout, ...)
 * @param unsampledRelations relations left to hints because the build's sampling budget was spent
 * @param samplingQueries sampling queries sent (one per sampled relation)
 */
public record BuildReport(
    String environment,
    String database,
    long version,
    Instant builtAt,
    Duration took,
    int relations,
    int sensitiveColumns,
    int sampledRelations,
    int reusedRelations,
    int skippedRelations,
    int unsampledRelations,
    int samplingQueries) {}
