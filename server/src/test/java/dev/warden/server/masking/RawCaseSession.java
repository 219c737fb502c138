package dev.warden.server.masking;

import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Protocol messages written by hand: per statement Parse, Bind asking for every result column in
 * binary format, and Execute with a row limit of 2 (repeated after each PortalSuspended), with no
 * Describe, so Warden must mask rows it was never asked to describe; then Sync. A cursor's FETCH
 * through this path is a FETCH in binary format. A Query of ROLLBACK ends the case.
 */
final class RawCaseSession implements CaseSession {
  private static final Duration STEP = Duration.ofSeconds(5);
  private static final int ROW_LIMIT = 2;

  private RawWire wire;
  private String openFailure;

  static RawCaseSession open(Login login) {
    RawCaseSession s = new RawCaseSession();
    try {
      s.wire = RawWire.connect(login.address());
      s.wire.login(
          Map.of(
              "user",
              login.user(),
              "database",
              login.database(),
              "application_name",
              "masking-raw",
              "client_encoding",
              "UTF8"),
          login.password());
    } catch (IOException e) {
      s.openFailure = e.toString();
      if (s.wire != null) {
        s.wire.close();
        s.wire = null;
      }
    }
    return s;
  }

  /** Bind of the unnamed statement to the unnamed portal, no parameters, all results binary. */
  private static byte[] bindBinary() {
    return Packets.typed(
        'B',
        Packets.body().cstring("").cstring("").int16(0).int16(0).int16(1).int16(1).toByteArray());
  }

  @Override
  public List<String> run(List<String> statements) {
    List<String> problems = new ArrayList<>();
    if (wire == null) {
      problems.add("not connected: " + openFailure);
      return problems;
    }
    try {
      for (String sql : statements) {
        statement(sql, problems);
      }
      wire.write(Packets.query("ROLLBACK"));
      wire.readThrough('Z', STEP);
    } catch (IOException e) {
      problems.add("connection: " + e.getMessage());
      wire.close();
      wire = null;
      openFailure = "lost in an earlier case";
    }
    return problems;
  }

  private void statement(String sql, List<String> problems) throws IOException {
    wire.write(
        Packets.parse("", sql), bindBinary(), Packets.execute("", ROW_LIMIT), Packets.flush());
    try {
      while (true) {
        WireMessage m = wire.read(STEP);
        if (m.is('s')) {
          wire.write(Packets.execute("", ROW_LIMIT), Packets.flush());
        } else if (m.is('E')) {
          problems.add(m.sqlState() + " " + m.message());
          break;
        } else if (m.is('C') || m.is('I')) {
          break;
        } else if (m.is('G')) {
          wire.write(Packets.typed('f', Packets.body().cstring("no COPY FROM here").toByteArray()));
        }
      }
    } catch (SocketTimeoutException e) {
      problems.add("no answer to Flush within " + STEP.toSeconds() + " s: " + sql);
    }
    wire.write(Packets.sync());
    wire.readThrough('Z', STEP);
  }

  @Override
  public boolean usable() {
    return wire != null && !wire.isClosed();
  }

  @Override
  public void close() {
    if (wire != null) {
      wire.close();
    }
  }
}
