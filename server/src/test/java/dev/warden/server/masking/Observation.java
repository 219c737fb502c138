package dev.warden.server.masking;

import dev.warden.testkit.CanaryScanner;
import dev.warden.testkit.RecordingRelay.Capture;
import dev.warden.testkit.WireMessage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What one client saw of one case, judged from the bytes Warden sent (never from the client's
 * view): every canary found, where, in which form; whether Warden refused a statement; whether rows
 * or COPY data came back.
 *
 * @param client how the case was sent ({@link Client}), or which session received it
 * @param leaks each canary hit as {@code canary as transformation — where}
 * @param canaries the names of the canaries found
 * @param refused whether Warden refused a statement of the case (SQLSTATE 42501, its own message)
 * @param data whether any DataRow or CopyData came back
 * @param problems what the client itself reported, for the report
 */
record Observation(
    String client,
    List<String> leaks,
    Set<String> canaries,
    boolean refused,
    boolean data,
    List<String> problems) {

  static Observation of(
      String client, List<Capture> captures, CanaryScanner scanner, List<String> problems) {
    List<String> leaks = new ArrayList<>();
    Set<String> canaries = new LinkedHashSet<>();
    boolean refused = false;
    boolean data = false;
    for (Capture c : captures) {
      byte[] bytes = c.bytes();
      for (CanaryScanner.Hit h : scanner.scan(bytes)) {
        leaks.add(h.canary() + " as " + h.transformation() + " in " + c.locate(h.offset()));
        canaries.add(h.canary());
      }
      for (WireMessage m : messages(c)) {
        if (m.is('E') && isRefusal(m)) {
          refused = true;
        }
        if (m.is('D') || m.is('d')) {
          data = true;
        }
      }
    }
    return new Observation(
        client, List.copyOf(leaks), Set.copyOf(canaries), refused, data, List.copyOf(problems));
  }

  /** A refusal by Warden's policy, as opposed to an error of the database. */
  static boolean isRefusal(WireMessage error) {
    String message = error.message();
    return "42501".equals(error.sqlState())
        && message != null
        && message.startsWith("Warden refused");
  }

  /** The whole messages of a capture. */
  static List<WireMessage> messages(Capture c) {
    List<WireMessage> out = new ArrayList<>();
    byte[] bytes = c.bytes();
    for (var f : c.frames()) {
      int from = f.offset() - c.offset();
      int to = f.end() - c.offset();
      if (from < 0 || to > bytes.length || to - from < 5) {
        continue;
      }
      out.add(new WireMessage(bytes[from], Arrays.copyOfRange(bytes, from + 5, to)));
    }
    return out;
  }
}
