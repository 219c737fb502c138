package dev.warden.store.audit;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The files side of the embedded log, confined to the writer thread: appends frames to the current
 * segment through a buffer, rotates segments, and knows two states — what was written, and what is
 * durable (the segment, its length, the last record's seq and hash at the last fsync) — so that
 * after a failed write or fsync it can go back to the durable state ({@link #recover}).
 */
final class SegmentWriter implements AutoCloseable {
  private static final int BUFFER = 1 << 20;

  private final Path directory;
  private final LogFile.Opener opener;
  private final long segmentBytes;
  private final String logId;
  private final ByteBuffer out = ByteBuffer.allocate(BUFFER);

  private LogFile file;
  private Path segment;
  private int headerLength;
  private long length;
  private long seq;
  private byte[] hash;

  private Path durableSegment;
  private long durableFirstSeq;
  private long durableLength;
  private long durableSeq;
  private byte[] durableHash;

  /**
   * What opening found at the end of the log, and removed.
   *
   * @param segment the segment file it was in
   * @param afterSeq the last record kept
   * @param bytesRemoved how many bytes were cut off
   * @param reason why they could not be read
   */
  record TornTail(String segment, long afterSeq, long bytesRemoved, String reason) {}

  /** An opened writer, and the torn tail it cut off, if any. */
  record Opened(SegmentWriter writer, Optional<TornTail> tornTail) {}

  private SegmentWriter(
      Path directory,
      LogFile.Opener opener,
      long segmentBytes,
      String logId,
      LogFile file,
      Path segment,
      long firstSeq,
      int headerLength,
      long length,
      long seq,
      byte[] hash) {
    this.directory = directory;
    this.opener = opener;
    this.segmentBytes = segmentBytes;
    this.logId = logId;
    this.file = file;
    this.segment = segment;
    this.headerLength = headerLength;
    this.length = length;
    this.seq = seq;
    this.hash = hash;
    this.durableFirstSeq = firstSeq;
    markDurable();
  }

  /**
   * Opens the log in {@code directory}, creating it (with the id {@code wanted}, or a new one from
   * {@code newLogId}) when there is none. A torn tail of the last segment is cut off and reported;
   * damage anywhere else in it refuses the open.
   */
  static Opened open(
      Path directory,
      Optional<String> wanted,
      LogFile.Opener opener,
      long segmentBytes,
      Supplier<String> newLogId)
      throws IOException {
    List<Segments.Segment> segments = new java.util.ArrayList<>(Segments.list(directory));
    TornTail removedSegment = null;
    Segments.Header header = null;
    while (!segments.isEmpty()) {
      Segments.Segment last = segments.get(segments.size() - 1);
      try {
        header = Segments.readHeader(last.path());
        break;
      } catch (Segments.HeaderException e) {
        if (!e.cutShort) {
          throw damaged(directory, e.getMessage());
        }
        // A crash while a segment was being created: it holds no record. Remove it.
        long size = Files.size(last.path());
        Files.delete(last.path());
        opener.syncDirectory(directory);
        segments.remove(segments.size() - 1);
        removedSegment =
            new TornTail(
                last.path().getFileName().toString(),
                last.firstSeq() - 1,
                size,
                "the segment's header was cut short");
      }
    }
    if (header == null) {
      String logId = wanted.orElseGet(newLogId);
      Segments.checkLogId(logId);
      SegmentWriter w =
          create(directory, opener, segmentBytes, logId, 1, AuditChain.genesis(logId));
      return new Opened(w, Optional.ofNullable(removedSegment));
    }
    Segments.Segment last = segments.get(segments.size() - 1);
    if (wanted.isPresent() && !wanted.get().equals(header.logId())) {
      throw new IOException(
          "the audit log in "
              + directory
              + " is log '"
              + header.logId()
              + "', not '"
              + wanted.get()
              + "' as configured; configure its id, or move the directory aside to start a new log");
    }
    if (header.firstSeq() != last.firstSeq()) {
      throw damaged(
          directory,
          last.path().getFileName()
              + " is named for record "
              + last.firstSeq()
              + " but its header says "
              + header.firstSeq());
    }
    long expected = header.firstSeq();
    byte[] h = header.previousHash();
    long good = header.length();
    String torn = "";
    long size;
    try (FileChannel ch = FileChannel.open(last.path())) {
      size = ch.size();
      Frames.Reader reader = new Frames.Reader(ch, header.length(), size);
      reading:
      while (true) {
        switch (reader.next()) {
          case Frames.Frame f -> {
            ChainedRecord r = f.record();
            byte[] next = AuditChain.next(h, expected, r.payload());
            if (r.seq() != expected || !MessageDigest.isEqual(next, r.hash())) {
              throw damaged(
                  directory,
                  "record "
                      + expected
                      + " in "
                      + last.path().getFileName()
                      + " does not follow the chain");
            }
            h = next;
            expected++;
            good = f.end();
          }
          case Frames.End e -> {
            break reading;
          }
          case Frames.CutShort c -> {
            torn = c.reason();
            break reading;
          }
          case Frames.Damaged d -> {
            if (!d.last()) {
              throw damaged(directory, last.path().getFileName() + ": " + d.reason());
            }
            torn = d.reason();
            break reading;
          }
        }
      }
    }
    LogFile file = opener.open(last.path());
    TornTail tornTail = removedSegment;
    if (!torn.isEmpty()) {
      file.truncate(good);
      file.force();
      tornTail =
          new TornTail(last.path().getFileName().toString(), expected - 1, size - good, torn);
    }
    SegmentWriter w =
        new SegmentWriter(
            directory,
            opener,
            segmentBytes,
            header.logId(),
            file,
            last.path(),
            header.firstSeq(),
            header.length(),
            good,
            expected - 1,
            h);
    return new Opened(w, Optional.ofNullable(tornTail));
  }

  private static IOException damaged(Path directory, String what) {
    return new IOException(
        "the audit log in "
            + directory
            + " is damaged ("
            + what
            + "); it was not opened. Run `warden audit verify` to see what is wrong");
  }

  private static SegmentWriter create(
      Path directory,
      LogFile.Opener opener,
      long segmentBytes,
      String logId,
      long firstSeq,
      byte[] previousHash)
      throws IOException {
    Segments.Header header = new Segments.Header(logId, firstSeq, previousHash);
    Path path = directory.resolve(Segments.name(firstSeq));
    LogFile file = newSegment(opener, directory, path, header);
    return new SegmentWriter(
        directory,
        opener,
        segmentBytes,
        logId,
        file,
        path,
        firstSeq,
        header.length(),
        header.length(),
        firstSeq - 1,
        previousHash);
  }

  /** Creates a segment with its header, durably: the file, then the directory entry. */
  private static LogFile newSegment(
      LogFile.Opener opener, Path directory, Path path, Segments.Header header) throws IOException {
    if (Files.exists(path)) {
      throw new IOException("cannot start segment " + path.getFileName() + ": it exists already");
    }
    LogFile file = opener.open(path);
    try {
      file.write(header.encode());
      file.force();
      opener.syncDirectory(directory);
      return file;
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  String logId() {
    return logId;
  }

  /** The last record written (not necessarily durable). */
  long seq() {
    return seq;
  }

  long durableSeq() {
    return durableSeq;
  }

  byte[] durableHash() {
    return durableHash.clone();
  }

  /**
   * Chains {@code payload} as the next record and buffers its frame; it reaches the file at the
   * next {@link #flush} (or sooner, when the buffer fills or the segment rotates).
   */
  ChainedRecord append(byte[] payload) throws IOException {
    if (file == null) {
      throw new IOException("the audit segment is closed after a failure");
    }
    long next = seq + 1;
    ChainedRecord r = new ChainedRecord(next, payload, AuditChain.next(hash, next, payload));
    ByteBuffer frame = Frames.encode(r);
    if (length > headerLength && length + out.position() + frame.remaining() > segmentBytes) {
      rotate();
    }
    if (frame.remaining() > out.remaining()) {
      flush();
    }
    if (frame.remaining() > out.remaining()) {
      length += write(frame);
    } else {
      out.put(frame);
    }
    seq = next;
    hash = r.hash();
    return r;
  }

  /** Writes the buffered frames to the file. */
  void flush() throws IOException {
    if (out.position() == 0) {
      return;
    }
    out.flip();
    try {
      length += write(out);
    } finally {
      out.clear();
    }
  }

  private int write(ByteBuffer bytes) throws IOException {
    int n = bytes.remaining();
    try {
      file.write(bytes);
    } catch (IOException e) {
      throw new IOException("write failed: " + e.getMessage(), e);
    }
    return n;
  }

  /** Writes and fsyncs everything appended: it is durable from now on. */
  void force() throws IOException {
    flush();
    try {
      file.force();
    } catch (IOException e) {
      throw new IOException("fsync failed: " + e.getMessage(), e);
    }
    markDurable();
  }

  private void markDurable() {
    durableSegment = segment;
    durableLength = length;
    durableSeq = seq;
    durableHash = hash;
  }

  /** Closes the current segment, durably, and starts the next one. */
  private void rotate() throws IOException {
    force();
    file.close();
    file = null;
    Segments.Header header = new Segments.Header(logId, seq + 1, hash);
    Path path = directory.resolve(Segments.name(seq + 1));
    file = newSegment(opener, directory, path, header);
    segment = path;
    headerLength = header.length();
    length = header.length();
    durableFirstSeq = seq + 1;
    markDurable();
  }

  /**
   * Goes back to the last durable state after a failure: removes segments started since, cuts the
   * durable segment back to its durable length (dropping what was written after the last good
   * fsync), fsyncs it and the directory, and reopens it for writing.
   */
  void recover() throws IOException {
    out.clear();
    if (file != null) {
      try {
        file.close();
      } catch (IOException e) {
        // The handle is dropped either way; the file is reopened below.
      }
      file = null;
    }
    for (Segments.Segment s : Segments.list(directory)) {
      if (s.firstSeq() > durableFirstSeq) {
        Files.delete(s.path());
      }
    }
    LogFile reopened = opener.open(durableSegment);
    try {
      long size = reopened.size();
      if (size < durableLength) {
        throw new IOException(
            durableSegment.getFileName()
                + " is shorter ("
                + size
                + " bytes) than what was made durable ("
                + durableLength
                + " bytes)");
      }
      reopened.truncate(durableLength);
      reopened.force();
      opener.syncDirectory(directory);
    } catch (IOException | RuntimeException e) {
      reopened.close();
      throw e;
    }
    file = reopened;
    segment = durableSegment;
    Segments.Header header = Segments.readHeader(durableSegment);
    headerLength = header.length();
    length = durableLength;
    seq = durableSeq;
    hash = durableHash;
  }

  @Override
  public void close() throws IOException {
    if (file != null) {
      file.close();
      file = null;
    }
  }
}
