package dev.warden.store.embedded;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Review;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.ApprovalStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * Approval requests in the {@code approvals} table, one row each. The requester's groups, the
 * requirement and the reviews are JSON text (groups from an identity provider may hold any
 * character, so no separator is safe); times are fixed-width UTC text with nanoseconds, so that
 * text order is time order.
 *
 * <p>{@link #replace} reads the row and writes it in one {@code BEGIN IMMEDIATE} transaction, which
 * holds the file's write lock: the comparison with the expected request and the update cannot be
 * split by another thread or process. The row's {@code version} column is bumped by every change
 * and checked by the update as well.
 */
final class SqliteApprovalStore implements ApprovalStore {
  private static final String COLUMNS =
      "id, requester, requester_groups, environment, database_name, statement, fingerprint,"
          + " binding, rule, why, reason, row_count, requirement, created, expires, status,"
          + " reviews, used, on_behalf_of, kind, access_role, access_duration, window_start,"
          + " window_end, version";
  private static final String NEWEST_FIRST = " ORDER BY created DESC, rowid DESC";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code 2026-03-04T10:00:00.000000000Z}: always 30 characters for years 0 to 9999. */
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  private static final Instant FIRST = Instant.parse("0000-01-01T00:00:00Z");
  private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999999Z");

  private final SqliteDatabase db;

  SqliteApprovalStore(SqliteDatabase db) {
    this.db = db;
  }

  @Override
  public void create(ApprovalRequest request) {
    Objects.requireNonNull(request, "request");
    Row row = Row.of(request);
    db.write(
        c -> {
          if (read(c, request.id()).isPresent()) {
            throw new IllegalArgumentException(
                "an approval request with id " + request.id() + " already exists");
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO approvals ("
                      + COLUMNS
                      + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                      + " ?, ?, ?, ?, ?, 1)")) {
            ps.setString(1, request.id());
            row.bind(ps, 2);
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public Optional<ApprovalRequest> find(String id) {
    Objects.requireNonNull(id, "id");
    return db.read(c -> read(c, id).map(Stored::request));
  }

  @Override
  public List<ApprovalRequest> list(Filter filter) {
    Objects.requireNonNull(filter, "filter");
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM approvals WHERE 1 = 1");
    List<String> arguments = new ArrayList<>();
    if (!filter.status().isEmpty()) {
      sql.append(" AND status IN (");
      for (int i = 0; i < filter.status().size(); i++) {
        sql.append(i == 0 ? "?" : ", ?");
        arguments.add(filter.status().get(i).name());
      }
      sql.append(')');
    }
    filter.requester().ifPresent(r -> add(sql, arguments, " AND requester = ?", r));
    filter.environment().ifPresent(e -> add(sql, arguments, " AND environment = ?", e));
    filter.since().ifPresent(s -> add(sql, arguments, " AND created >= ?", since(s)));
    filter.kind().ifPresent(k -> add(sql, arguments, " AND kind = ?", kind(k)));
    sql.append(NEWEST_FIRST).append(" LIMIT ").append(filter.limit());
    return db.read(c -> query(c, sql.toString(), arguments));
  }

  @Override
  public boolean replace(ApprovalRequest expected, ApprovalRequest updated) {
    Objects.requireNonNull(expected, "expected");
    Objects.requireNonNull(updated, "updated");
    if (!expected.id().equals(updated.id())) {
      throw new IllegalArgumentException(
          "replace keeps the id: " + expected.id() + " cannot become " + updated.id());
    }
    Row row = Row.of(updated);
    return db.write(
        c -> {
          Optional<Stored> stored = read(c, expected.id());
          if (stored.isEmpty() || !stored.get().request().equals(expected)) {
            return false;
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE approvals SET requester = ?, requester_groups = ?, environment = ?,"
                      + " database_name = ?, statement = ?, fingerprint = ?, binding = ?, rule = ?,"
                      + " why = ?, reason = ?, row_count = ?, requirement = ?, created = ?,"
                      + " expires = ?, status = ?, reviews = ?, used = ?, on_behalf_of = ?,"
                      + " kind = ?, access_role = ?, access_duration = ?, window_start = ?,"
                      + " window_end = ?, version = version + 1"
                      + " WHERE id = ? AND version = ?")) {
            int next = row.bind(ps, 1);
            ps.setString(next, updated.id());
            ps.setLong(next + 1, stored.get().version());
            return ps.executeUpdate() == 1;
          }
        });
  }

  @Override
  public List<ApprovalRequest> byBinding(String requester, String environment, String binding) {
    Objects.requireNonNull(requester, "requester");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(binding, "binding");
    return db.read(
        c ->
            query(
                c,
                "SELECT "
                    + COLUMNS
                    + " FROM approvals WHERE requester = ? AND environment = ? AND binding = ?"
                    + NEWEST_FIRST,
                List.of(requester, environment, binding)));
  }

  @Override
  public List<ApprovalRequest> openWindows(
      Optional<String> requester, Optional<String> environment, Instant at) {
    Objects.requireNonNull(requester, "requester");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(at, "at");
    if (at.isBefore(FIRST) || at.isAfter(LAST)) {
      return List.of();
    }
    StringBuilder sql =
        new StringBuilder(
            "SELECT "
                + COLUMNS
                + " FROM approvals WHERE kind = 'access' AND status = 'APPROVED'"
                + " AND window_start <= ? AND window_end > ?");
    List<String> arguments = new ArrayList<>(List.of(time(at), time(at)));
    requester.ifPresent(r -> add(sql, arguments, " AND requester = ?", r));
    environment.ifPresent(e -> add(sql, arguments, " AND environment = ?", e));
    sql.append(" ORDER BY window_end DESC, rowid DESC");
    return db.read(c -> query(c, sql.toString(), arguments));
  }

  private static String kind(ApprovalRequest.Kind kind) {
    return switch (kind) {
      case STATEMENT -> "statement";
      case ACCESS -> "access";
    };
  }

  private static void add(StringBuilder sql, List<String> arguments, String clause, String value) {
    sql.append(clause);
    arguments.add(value);
  }

  /** A lower bound in the stored format; one beyond the format's years bounds nothing, or all. */
  private static String since(Instant since) {
    if (since.isBefore(FIRST)) {
      return time(FIRST);
    }
    return since.isAfter(LAST) ? "A" : time(since);
  }

  private static List<ApprovalRequest> query(Connection c, String sql, List<String> arguments)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < arguments.size(); i++) {
        ps.setString(i + 1, arguments.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        List<ApprovalRequest> out = new ArrayList<>();
        while (rs.next()) {
          out.add(stored(rs).request());
        }
        return List.copyOf(out);
      }
    }
  }

  private static Optional<Stored> read(Connection c, String id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT " + COLUMNS + " FROM approvals WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(stored(rs)) : Optional.empty();
      }
    }
  }

  /** A request as read, with the version its row had. */
  private record Stored(ApprovalRequest request, long version) {}

  /** A request's columns after the id, encoded and checked before any transaction starts. */
  private record Row(ApprovalRequest r, String groups, String requirement, String reviews) {
    static Row of(ApprovalRequest r) {
      // Checked here so that a time Warden cannot store fails before anything is written.
      time(r.created());
      time(r.expires());
      r.used().ifPresent(SqliteApprovalStore::time);
      r.reviews().forEach(rv -> time(rv.at()));
      r.access().flatMap(ApprovalRequest.Access::start).ifPresent(SqliteApprovalStore::time);
      r.access().flatMap(ApprovalRequest.Access::end).ifPresent(SqliteApprovalStore::time);
      return new Row(
          r,
          SqliteApprovalStore.groups(r.requesterGroups()),
          SqliteApprovalStore.requirement(r.requirement()),
          SqliteApprovalStore.reviews(r.reviews()));
    }

    /** Binds the 23 columns after the id from {@code first}; returns the next index. */
    int bind(PreparedStatement ps, int first) throws SQLException {
      int i = first;
      ps.setString(i++, r.requester());
      ps.setString(i++, groups);
      ps.setString(i++, r.environment());
      ps.setString(i++, r.database());
      ps.setString(i++, r.statement());
      ps.setString(i++, r.fingerprint());
      ps.setString(i++, r.binding());
      ps.setString(i++, r.rule());
      ps.setString(i++, r.why());
      ps.setString(i++, r.reason().orElse(null));
      if (r.rows().isPresent()) {
        ps.setLong(i++, r.rows().getAsLong());
      } else {
        ps.setNull(i++, Types.INTEGER);
      }
      ps.setString(i++, requirement);
      ps.setString(i++, time(r.created()));
      ps.setString(i++, time(r.expires()));
      ps.setString(i++, r.status().name());
      ps.setString(i++, reviews);
      ps.setString(i++, r.used().map(SqliteApprovalStore::time).orElse(null));
      ps.setString(i++, r.requesterOnBehalfOf().orElse(null));
      ps.setString(i++, kind(r.kind()));
      Optional<ApprovalRequest.Access> access = r.access();
      ps.setString(i++, access.map(ApprovalRequest.Access::role).orElse(null));
      ps.setString(i++, access.map(a -> a.duration().toString()).orElse(null));
      ps.setString(
          i++,
          access
              .flatMap(ApprovalRequest.Access::start)
              .map(SqliteApprovalStore::time)
              .orElse(null));
      ps.setString(
          i++,
          access.flatMap(ApprovalRequest.Access::end).map(SqliteApprovalStore::time).orElse(null));
      return i;
    }
  }

  static String time(Instant at) {
    if (at.isBefore(FIRST) || at.isAfter(LAST)) {
      throw new IllegalArgumentException("cannot store a time outside the years 0 to 9999: " + at);
    }
    return TIME.format(at);
  }

  private static String groups(Set<String> groups) {
    ArrayNode array = JSON.createArrayNode();
    new TreeSet<>(groups).forEach(array::add);
    return array.toString();
  }

  private static String requirement(ApprovalRequirement q) {
    ObjectNode node = JSON.createObjectNode();
    ArrayNode groups = node.putArray("approverGroups");
    new TreeSet<>(q.approverGroups()).forEach(groups::add);
    node.put("minApprovals", q.minApprovals());
    node.put("allOfGroups", q.allOfGroups());
    node.put("waiting", q.waiting().name());
    node.put("holdTimeout", q.holdTimeout().toString());
    node.put("lifetime", q.lifetime().toString());
    node.put("reasonRequired", q.reasonRequired());
    node.put("breakGlass", q.breakGlass());
    node.put("breakGlassOnly", q.breakGlassOnly());
    return node.toString();
  }

  private static String reviews(List<Review> reviews) {
    ArrayNode array = JSON.createArrayNode();
    for (Review rv : reviews) {
      ObjectNode node = array.addObject();
      node.put("reviewer", rv.reviewer());
      ArrayNode groups = node.putArray("groups");
      new TreeSet<>(rv.reviewerGroups()).forEach(groups::add);
      node.put("approve", rv.approve());
      node.put("at", time(rv.at()));
      node.put("comment", rv.comment());
      node.put("breakGlass", rv.breakGlass());
    }
    return array.toString();
  }

  /** Reads a row, refusing anything Warden could not have written. */
  private static Stored stored(ResultSet rs) throws SQLException {
    String id = rs.getString("id");
    try {
      long rows = rs.getLong("row_count");
      OptionalLong rowCount = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(rows);
      ApprovalRequest request =
          new ApprovalRequest(
              id,
              rs.getString("requester"),
              strings(JSON.readTree(rs.getString("requester_groups"))),
              rs.getString("environment"),
              rs.getString("database_name"),
              rs.getString("statement"),
              rs.getString("fingerprint"),
              rs.getString("binding"),
              rs.getString("rule"),
              rs.getString("why"),
              Optional.ofNullable(rs.getString("reason")),
              rowCount,
              requirement(JSON.readTree(rs.getString("requirement"))),
              Instant.parse(rs.getString("created")),
              Instant.parse(rs.getString("expires")),
              Status.valueOf(rs.getString("status")),
              reviews(JSON.readTree(rs.getString("reviews"))),
              Optional.ofNullable(rs.getString("used")).map(Instant::parse),
              Optional.ofNullable(rs.getString("on_behalf_of")),
              access(rs));
      return new Stored(request, rs.getLong("version"));
    } catch (JsonProcessingException
        | IllegalArgumentException
        | DateTimeException
        | NullPointerException e) {
      throw new StoreException("the approvals table holds a corrupt row for " + id, e);
    }
  }

  /** An access request's columns; refused when the kind and the columns disagree. */
  private static Optional<ApprovalRequest.Access> access(ResultSet rs) throws SQLException {
    String kind = rs.getString("kind");
    String role = rs.getString("access_role");
    String duration = rs.getString("access_duration");
    Optional<Instant> start = Optional.ofNullable(rs.getString("window_start")).map(Instant::parse);
    Optional<Instant> end = Optional.ofNullable(rs.getString("window_end")).map(Instant::parse);
    switch (kind) {
      case "statement" -> {
        if (role != null || duration != null || start.isPresent() || end.isPresent()) {
          throw new IllegalArgumentException("a statement's request with access columns");
        }
        return Optional.empty();
      }
      case "access" -> {
        if (role == null || duration == null) {
          throw new IllegalArgumentException("an access request without its role or duration");
        }
        return Optional.of(new ApprovalRequest.Access(role, Duration.parse(duration), start, end));
      }
      default -> throw new IllegalArgumentException("unknown kind " + kind);
    }
  }

  private static ApprovalRequirement requirement(JsonNode node) {
    return new ApprovalRequirement(
        strings(field(node, "approverGroups")),
        integer(node, "minApprovals"),
        bool(node, "allOfGroups"),
        ApprovalRequirement.Wait.valueOf(text(node, "waiting")),
        Duration.parse(text(node, "holdTimeout")),
        Duration.parse(text(node, "lifetime")),
        bool(node, "reasonRequired"),
        bool(node, "breakGlass"),
        // Absent in rows written before break-glass for denied statements existed.
        node.has("breakGlassOnly") && bool(node, "breakGlassOnly"));
  }

  private static List<Review> reviews(JsonNode array) {
    if (!array.isArray()) {
      throw new IllegalArgumentException("reviews are not a JSON array");
    }
    List<Review> reviews = new ArrayList<>();
    for (JsonNode node : array) {
      reviews.add(
          new Review(
              text(node, "reviewer"),
              strings(field(node, "groups")),
              bool(node, "approve"),
              Instant.parse(text(node, "at")),
              text(node, "comment"),
              bool(node, "breakGlass")));
    }
    return reviews;
  }

  private static JsonNode field(JsonNode node, String name) {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      throw new IllegalArgumentException("missing " + name);
    }
    return value;
  }

  private static String text(JsonNode node, String name) {
    JsonNode value = field(node, name);
    if (!value.isTextual()) {
      throw new IllegalArgumentException(name + " is not a string");
    }
    return value.textValue();
  }

  private static boolean bool(JsonNode node, String name) {
    JsonNode value = field(node, name);
    if (!value.isBoolean()) {
      throw new IllegalArgumentException(name + " is not a boolean");
    }
    return value.booleanValue();
  }

  private static int integer(JsonNode node, String name) {
    JsonNode value = field(node, name);
    if (!value.isInt()) {
      throw new IllegalArgumentException(name + " is not an integer");
    }
    return value.intValue();
  }

  private static Set<String> strings(JsonNode array) {
    if (!array.isArray()) {
      throw new IllegalArgumentException("expected a JSON array of strings");
    }
    Set<String> out = new TreeSet<>();
    for (JsonNode n : array) {
      if (!n.isTextual()) {
        throw new IllegalArgumentException("expected a JSON array of strings");
      }
      out.add(n.textValue());
    }
    return out;
  }
}
