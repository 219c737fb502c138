package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.protocol.postgres.Bind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the audit trail records of a Bind's parameters, from the head the relay peeks at. */
class BindParametersTest {
  /** The head as the relay sees it: the first {@code peek} bytes of the body, past both names. */
  private static List<String> read(Bind bind, int peek) {
    ByteBuf message = Unpooled.buffer();
    bind.encode(message);
    ByteBuf body = message.slice(5, message.readableBytes() - 5);
    ByteBuf head = body.slice(0, Math.min(peek, body.readableBytes()));
    head.skipBytes(bind.portalName().length() + 1 + bind.statementName().length() + 1);
    return BindParameters.read(head, StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void textBinaryAndNullValuesAreRecordedAsTheClientSentThem() {
    Bind bind =
        new Bind(
            "",
            "s1",
            List.of((short) 0, (short) 1, (short) 0),
            Arrays.asList(utf8("Zoë"), new byte[] {0, 0, 0, 42}, null),
            List.of());
    assertThat(read(bind, 1024)).containsExactly("Zoë", "\\x0000002a", null);
  }

  @Test
  void oneFormatCodeAppliesToEveryParameter() {
    Bind bind =
        new Bind("p", "", List.of((short) 1), List.of(new byte[] {1}, new byte[] {2}), List.of());
    assertThat(read(bind, 1024)).containsExactly("\\x01", "\\x02");
  }

  @Test
  void longValuesAreShortenedAndValuesPastTheHeadAreCountedNotRead() {
    String big = "x".repeat(5000);
    Bind bind =
        new Bind("", "", List.of(), List.of(utf8(big), utf8("after"), utf8("more")), List.of());
    List<String> values = read(bind, 1024);
    assertThat(values.getFirst())
        .startsWith("x".repeat(BindParameters.MAX_CHARS))
        .endsWith("… (5000 bytes)")
        .hasSize(BindParameters.MAX_CHARS + "… (5000 bytes)".length());
    assertThat(values.get(1)).contains("2 more").contains("not read");
    assertThat(values).hasSize(2);
  }

  @Test
  void aTruncatedOrMalformedHeadYieldsWhatWasRead() {
    Bind bind = new Bind("", "", List.of(), List.of(utf8("a"), utf8("b")), List.of());
    assertThat(read(bind, 4 + 2 + 2 + 4 + 1))
        .containsExactly("a", "(1 more, past the first bytes of the message, not read)");
    assertThat(BindParameters.read(Unpooled.wrappedBuffer(new byte[] {0}), StandardCharsets.UTF_8))
        .isEmpty();
  }
}
