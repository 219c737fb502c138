package dev.warden.store.postgres;

import dev.warden.core.audit.CanonicalJson;
import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A copy of a log's checkpoints outside the database: {@code <dir>/<log id>.checkpoints}, one
 * checkpoint per line as canonical JSON ({@code hash}, {@code log}, {@code prev}, {@code seq},
 * {@code sig}, {@code wall}; byte strings in hex), appended and forced to disk. Someone who can
 * rewrite both tables cannot rewrite this file when it belongs to another user (append-only, or on
 * another host): the verifier compares the two.
 */
final class Witness {
  private static final HexFormat HEX = HexFormat.of();

  private Witness() {}

  static Path file(Path dir, String logId) {
    return dir.resolve(logId + ".checkpoints");
  }

  /** Appends {@code checkpoints} and forces them to disk. */
  static void append(Path dir, List<Checkpoint> checkpoints) throws IOException {
    if (checkpoints.isEmpty()) {
      return;
    }
    StringBuilder lines = new StringBuilder();
    for (Checkpoint cp : checkpoints) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("log", cp.logId());
      f.put("seq", cp.seq());
      f.put("hash", HEX.formatHex(cp.hash()));
      f.put("wall", cp.wallTimeMillis());
      f.put("prev", HEX.formatHex(cp.previousSignature()));
      f.put("sig", HEX.formatHex(cp.signature()));
      lines.append(new String(CanonicalJson.encode(f), StandardCharsets.UTF_8)).append('\n');
    }
    Files.createDirectories(dir);
    Path file = file(dir, checkpoints.getFirst().logId());
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer bytes = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
      ch.force(false);
    }
  }

  /**
   * The checkpoints of {@code logId} in {@code dir}, in file order. A last line without its newline
   * was cut short by a crash and is left out; any other unreadable line is an error.
   */
  static List<Checkpoint> read(Path dir, String logId) throws IOException {
    Path file = file(dir, logId);
    List<Checkpoint> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    int start = 0;
    int line = 1;
    while (true) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        return out;
      }
      out.add(parse(text.substring(start, end), file, line));
      start = end + 1;
      line++;
    }
  }

  private static Checkpoint parse(String line, Path file, int number) throws IOException {
    try {
      if (!(Json.parse(line) instanceof Map<?, ?> f)) {
        throw new Json.MalformedException("not an object");
      }
      return new Checkpoint(
          text(f, "log"),
          number(f, "seq"),
          HEX.parseHex(text(f, "hash")),
          number(f, "wall"),
          HEX.parseHex(text(f, "prev")),
          HEX.parseHex(text(f, "sig")));
    } catch (Json.MalformedException | IllegalArgumentException e) {
      throw new IOException(
          "the witness file " + file + " is unreadable at line " + number + ": " + e.getMessage(),
          e);
    }
  }

  private static String text(Map<?, ?> fields, String name) throws Json.MalformedException {
    if (fields.get(name) instanceof String s) {
      return s;
    }
    throw new Json.MalformedException("\"" + name + "\" is not a string");
  }

  private static long number(Map<?, ?> fields, String name) throws Json.MalformedException {
    if (fields.get(name) instanceof BigDecimal n) {
      try {
        return n.longValueExact();
      } catch (ArithmeticException e) {
        throw new Json.MalformedException("\"" + name + "\" is not a whole number");
      }
    }
    throw new Json.MalformedException("\"" + name + "\" is not a number");
  }
}
