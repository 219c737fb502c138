package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WitnessTest {
  @TempDir Path dir;

  private static List<Checkpoint> two() throws Exception {
    KeyPair k = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Checkpoint a = Checkpoint.sign(k.getPrivate(), "w-1", 10, new byte[32], 1000, new byte[0]);
    Checkpoint b = Checkpoint.sign(k.getPrivate(), "w-1", 20, new byte[32], 2000, a.signature());
    return List.of(a, b);
  }

  @Test
  void checkpointsReadBackAsWritten() throws Exception {
    List<Checkpoint> cps = two();
    Witness.append(dir, cps.subList(0, 1));
    Witness.append(dir, cps.subList(1, 2));
    assertThat(Witness.read(dir, "w-1")).isEqualTo(cps);
    assertThat(Witness.read(dir, "w-other")).isEmpty();
  }

  @Test
  void aLastLineCutShortByACrashIsLeftOut() throws Exception {
    List<Checkpoint> cps = two();
    Witness.append(dir, cps);
    Path file = Witness.file(dir, "w-1");
    String text = Files.readString(file);
    Files.writeString(file, text.substring(0, text.length() - 20));
    assertThat(Witness.read(dir, "w-1")).containsExactly(cps.get(0));
  }

  @Test
  void aDamagedLineIsAnErrorNamingIt() throws Exception {
    Witness.append(dir, two());
    Files.writeString(
        Witness.file(dir, "w-1"),
        "{\"hash\":\"00\",\"log\":\"w-1\",\"prev\":\"\",\"seq\":\"ten\",\"sig\":\"00\",\"wall\":1}\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    assertThatThrownBy(() -> Witness.read(dir, "w-1"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unreadable at line 3")
        .hasMessageContaining("\"seq\" is not a number");
  }
}
