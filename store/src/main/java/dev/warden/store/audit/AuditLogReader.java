package dev.warden.store.audit;

import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * Reads an embedded audit log's records in order across its segments: for the search index to catch
 * up after a restart, for exporters, and for tools working on the files. Safe while the writer
 * runs: it reads only complete records, and follows the writer into new segments.
 *
 * <p>A record that is complete in the file is not necessarily durable yet; within the writer's
 * process use {@link EmbeddedAuditTrail#readAfter}, which stops at the last durable record. Reading
 * does not verify the chain (that is {@link AuditVerifier}'s job) beyond what keeps the reader
 * honest: frame checksums, consecutive sequence numbers, and each segment continuing the one
 * before.
 */
public final class AuditLogReader {
  private final Path directory;
  private final String logId;

  private AuditLogReader(Path directory, String logId) {
    this.directory = directory;
    this.logId = logId;
  }

  /**
   * Opens the log in {@code auditDir} for reading.
   *
   * @throws IOException when there is no log there, or its first segment cannot be read
   */
  public static AuditLogReader open(Path auditDir) throws IOException {
    List<Segments.Segment> segments = Segments.list(auditDir);
    if (segments.isEmpty()) {
      throw new IOException("there is no audit log in " + auditDir + " (no segment-*.log file)");
    }
    return new AuditLogReader(auditDir, Segments.readHeader(segments.get(0).path()).logId());
  }

  /** The log's id. */
  public String logId() {
    return logId;
  }

  /**
   * Records in order, each read when asked for. {@link #hasNext} reads the files again when it
   * reached their end before, so a cursor kept open follows the log as it grows. A damaged file
   * makes it throw {@link UncheckedIOException}.
   */
  public interface Cursor extends Iterator<ChainedRecord>, AutoCloseable {
    @Override
    void close();
  }

  /** The records after {@code seq} (0 for all of them). */
  public Cursor readAfter(long seq) {
    return readAfter(seq, Long.MAX_VALUE);
  }

  /** The records after {@code afterSeq} up to {@code upToSeq} inclusive. */
  public Cursor readAfter(long afterSeq, long upToSeq) {
    if (afterSeq < 0) {
      throw new IllegalArgumentException("a sequence number is not negative: " + afterSeq);
    }
    return new SegmentCursor(afterSeq, upToSeq);
  }

  private final class SegmentCursor implements Cursor {
    private final long afterSeq;
    private final long upToSeq;
    private FileChannel channel;
    private Segments.Segment segment;
    private Frames.Reader reader;
    private long expected;
    private byte[] lastHash;
    private ChainedRecord next;
    private boolean started;

    SegmentCursor(long afterSeq, long upToSeq) {
      this.afterSeq = afterSeq;
      this.upToSeq = upToSeq;
    }

    @Override
    public boolean hasNext() {
      if (next != null) {
        return true;
      }
      try {
        next = fetch();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return next != null;
    }

    @Override
    public ChainedRecord next() {
      if (!hasNext()) {
        throw new NoSuchElementException("no audit record after " + (expected - 1) + " yet");
      }
      ChainedRecord r = next;
      next = null;
      return r;
    }

    private ChainedRecord fetch() throws IOException {
      if (!started) {
        started = true;
        List<Segments.Segment> segments = Segments.list(directory);
        Segments.Segment from = null;
        for (Segments.Segment s : segments) {
          if (from == null || s.firstSeq() <= afterSeq + 1) {
            from = s;
          }
        }
        if (from == null) {
          throw new IOException("the audit log in " + directory + " has no segments any more");
        }
        openSegment(from, Optional.empty());
      }
      while (true) {
        if (expected > upToSeq) {
          return null;
        }
        switch (reader.next()) {
          case Frames.Frame f -> {
            ChainedRecord r = f.record();
            if (r.seq() != expected) {
              throw damaged("holds record " + r.seq() + " where record " + expected + " belongs");
            }
            expected++;
            lastHash = r.hash();
            if (r.seq() > afterSeq) {
              return r;
            }
          }
          case Frames.Damaged d -> throw damaged(d.reason());
          case Frames.End e -> {
            if (!advance(false)) {
              return null;
            }
          }
          case Frames.CutShort c -> {
            if (!advance(true)) {
              return null;
            }
          }
        }
      }
    }

    /**
     * At the end of what was read: reads on if the segment grew, moves to the next segment if the
     * writer started one, or says there is nothing more yet.
     */
    private boolean advance(boolean cutShort) throws IOException {
      long size = channel.size();
      if (size > reader.position() && grew(size)) {
        return true;
      }
      Segments.Segment following = null;
      for (Segments.Segment s : Segments.list(directory)) {
        if (s.firstSeq() > segment.firstSeq()) {
          following = s;
          break;
        }
      }
      if (following == null) {
        return false;
      }
      // The writer finishes a segment (and fsyncs it) before it starts the next one, so what the
      // old one holds now is all it will hold.
      if (grew(channel.size())) {
        return true;
      }
      if (cutShort) {
        throw damaged("ends inside a record, and a later segment exists");
      }
      if (following.firstSeq() != expected) {
        throw new IOException(
            "the audit log in "
                + directory
                + " has no segment starting at record "
                + expected
                + " (the next is "
                + following.path().getFileName()
                + ")");
      }
      openSegment(following, Optional.of(lastHash));
      return true;
    }

    private boolean grew(long size) {
      long before = readerEnd;
      if (size > before) {
        reader.extendTo(size);
        readerEnd = size;
        return true;
      }
      return false;
    }

    private long readerEnd;

    private void openSegment(Segments.Segment s, Optional<byte[]> previousHash) throws IOException {
      close();
      channel = FileChannel.open(s.path());
      segment = s;
      Segments.Header header = Segments.readHeader(channel, s.path());
      if (!header.logId().equals(logId)) {
        throw damaged("belongs to log '" + header.logId() + "', not '" + logId + "'");
      }
      if (header.firstSeq() != s.firstSeq()) {
        throw damaged("says it starts at record " + header.firstSeq());
      }
      if (previousHash.isPresent()
          && !MessageDigest.isEqual(previousHash.get(), header.previousHash())) {
        throw damaged("does not continue the chain of the segment before it");
      }
      expected = header.firstSeq();
      lastHash = header.previousHash();
      readerEnd = channel.size();
      reader = new Frames.Reader(channel, header.length(), readerEnd);
    }

    private IOException damaged(String what) {
      return new IOException(
          "the audit log's segment "
              + segment.path().getFileName()
              + " in "
              + directory
              + " "
              + what
              + "; run `warden audit verify`");
    }

    @Override
    public void close() {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          // Read-only: nothing to lose.
        }
        channel = null;
      }
    }
  }
}
