package dev.warden.server.identity.login;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgPassTest {
  private static final PgConnection PROD =
      new PgConnection("127.0.0.1", 6432, "production", "alice@corp.example", "prefer");

  @TempDir Path dir;

  @Test
  void colonsAndBackslashesAreEscapedAsLibpqReadsThem() {
    assertThat(PgPass.escape("a:b\\c")).isEqualTo("a\\:b\\\\c");
    assertThat(PgPass.fields("h\\:x:1:d\\\\b:u:p\\:w:rest"))
        .containsExactly("h:x", "1", "d\\b", "u", "p:w:rest");
  }

  @Test
  void aNewLineIsAppendedAndOtherLinesAreKept() {
    String existing = "# my servers\ndb.internal:5432:app:bob:bobpw\n";
    String updated = PgPass.updated(existing, PROD, Secret.of("tok:en"));
    assertThat(updated)
        .isEqualTo(
            "# my servers\ndb.internal:5432:app:bob:bobpw\n"
                + "127.0.0.1:6432:production:alice@corp.example:tok\\:en\n");
  }

  @Test
  void theMatchingLineIsReplacedInPlaceAndLaterCopiesDropped() {
    String existing =
        "first:1:a:b:c\n"
            + "127.0.0.1:6432:production:alice@corp.example:old1\n"
            + "127.0.0.1:6432:staging:alice@corp.example:stay\n"
            + "127.0.0.1:6432:production:alice@corp.example:old2\n"
            + "last:1:a:b:c";
    String updated = PgPass.updated(existing, PROD, Secret.of("new"));
    assertThat(updated)
        .isEqualTo(
            "first:1:a:b:c\n"
                + "127.0.0.1:6432:production:alice@corp.example:new\n"
                + "127.0.0.1:6432:staging:alice@corp.example:stay\n"
                + "last:1:a:b:c\n");
  }

  @Test
  void aNewLineGoesBeforeAWildcardLineThatLibpqWouldOtherwiseUse() {
    String existing = "other:1:a:b:c\n*:*:*:alice@corp.example:stale\n";
    String updated = PgPass.updated(existing, PROD, Secret.of("new"));
    assertThat(updated)
        .isEqualTo(
            "other:1:a:b:c\n"
                + "127.0.0.1:6432:production:alice@corp.example:new\n"
                + "*:*:*:alice@corp.example:stale\n");
  }

  @Test
  void theFileIsWrittenWithMode0600EvenWhenItWasLooser() throws Exception {
    Path file = dir.resolve("pgpass");
    Files.writeString(file, "db:5432:app:bob:bobpw\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    PgPass.write(file, PROD, Secret.of("token"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(file))
        .isEqualTo("db:5432:app:bob:bobpw\n127.0.0.1:6432:production:alice@corp.example:token\n");
  }

  @Test
  void connectionStringsQuoteAndEscapeAsLibpqRequires() {
    PgConnection odd = new PgConnection("::1", 6432, "my db", "o'brien\\x", "require");
    assertThat(odd.conninfo(java.util.Optional.of(Secret.of("p w"))))
        .isEqualTo(
            "host=::1 port=6432 dbname='my db' user=o\\'brien\\\\x sslmode=require password='p w'");
    assertThat(PROD.conninfo(java.util.Optional.empty()))
        .isEqualTo(
            "host=127.0.0.1 port=6432 dbname=production user=alice@corp.example sslmode=prefer");
  }
}
