package dev.warden.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportCursorTest {
  @TempDir Path dir;

  @Test
  void roundTripsAndReplaces() throws IOException {
    Path file = ExportCursor.file(dir.resolve("export"), "webhook https://siem.example/hook");
    assertThat(ExportCursor.read(file)).isEmpty();
    new ExportCursor("w-0123456789ab", 41).write(file);
    new ExportCursor("w-0123456789ab", 42).write(file);
    assertThat(ExportCursor.read(file)).contains(new ExportCursor("w-0123456789ab", 42));
    try (var listing = Files.list(file.getParent())) {
      assertThat(listing).containsExactly(file); // no temporary file left behind
    }
  }

  @Test
  void namesAreReadableStableAndDistinct() {
    Path a = ExportCursor.file(dir, "jsonl /var/log/warden/audit.jsonl");
    Path b = ExportCursor.file(dir, "jsonl /var/log/warden/audit_jsonl");
    assertThat(a.getFileName().toString()).startsWith("jsonl-var-log-warden-audit-jsonl-");
    assertThat(a).isNotEqualTo(b);
    assertThat(ExportCursor.file(dir, "jsonl /var/log/warden/audit.jsonl")).isEqualTo(a);
  }

  @Test
  void aDamagedFileIsAnErrorNotAFreshStart() throws IOException {
    Path file = dir.resolve("x.cursor");
    Files.writeString(file, "warden-export-cursor 1\nlog w-1\nseq twelve\n");
    assertThatThrownBy(() -> ExportCursor.read(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is damaged; delete it to deliver the whole trail again");
  }
}
