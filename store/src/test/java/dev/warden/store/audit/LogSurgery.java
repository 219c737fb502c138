package dev.warden.store.audit;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a forger does to a log on disk, for the verifier's tests: read a segment's frames, change,
 * drop, copy or move them, write them back with or without fixing checksums and the chain.
 */
final class LogSurgery {
  private LogSurgery() {}

  /** One segment as bytes: its header and its frames, whole. */
  static final class Segment {
    final Path path;
    Segments.Header header;
    final List<ChainedRecord> records = new ArrayList<>();

    Segment(Path path) {
      this.path = path;
    }

    /** Writes the header and the records back, each with a correct checksum. */
    void write() {
      try (FileChannel ch =
          FileChannel.open(
              path,
              java.nio.file.StandardOpenOption.WRITE,
              java.nio.file.StandardOpenOption.CREATE,
              java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(header.encode());
        for (ChainedRecord r : records) {
          ByteBuffer f = Frames.encode(r);
          while (f.hasRemaining()) {
            ch.write(f);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  static List<Segment> read(Path dir) {
    try {
      List<Segment> out = new ArrayList<>();
      for (Segments.Segment s : Segments.list(dir)) {
        Segment seg = new Segment(s.path());
        try (FileChannel ch = FileChannel.open(s.path())) {
          seg.header = Segments.readHeader(ch, s.path());
          Frames.Reader reader = new Frames.Reader(ch, seg.header.length(), ch.size());
          while (reader.next() instanceof Frames.Frame f) {
            seg.records.add(f.record());
          }
        }
        out.add(seg);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every record, in order, with the segment index it is in. */
  record Located(int segment, int index, ChainedRecord record) {}

  static List<Located> locate(List<Segment> segments) {
    List<Located> all = new ArrayList<>();
    for (int s = 0; s < segments.size(); s++) {
      for (int i = 0; i < segments.get(s).records.size(); i++) {
        all.add(new Located(s, i, segments.get(s).records.get(i)));
      }
    }
    return all;
  }

  /**
   * Recomputes every hash from the start, and the headers' previous hashes, as someone without the
   * key can: the chain is then consistent, and only the signed checkpoints can tell.
   */
  static void rechain(String logId, List<Segment> segments) {
    byte[] h = AuditChain.genesis(logId);
    for (Segment s : segments) {
      s.header = new Segments.Header(s.header.logId(), s.header.firstSeq(), h);
      for (int i = 0; i < s.records.size(); i++) {
        ChainedRecord r = s.records.get(i);
        h = AuditChain.next(h, r.seq(), r.payload());
        s.records.set(i, new ChainedRecord(r.seq(), r.payload(), h));
      }
    }
  }

  /** Copies directory {@code from} into {@code to} (which must not exist). */
  static void copy(Path from, Path to) {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void flipByte(Path file, long offset, int mask) {
    try (FileChannel ch =
        FileChannel.open(
            file, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.put(0, (byte) (b.get(0) ^ mask));
      b.rewind();
      ch.write(b, offset);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The file offset where record {@code index} of {@code segment} starts. */
  static long offsetOf(Segment segment, int index) {
    long at = segment.header.length();
    for (int i = 0; i < index; i++) {
      at += Frames.HEADER + Frames.FIXED + segment.records.get(i).payload().length;
    }
    return at;
  }
}
