package dev.warden.server.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The corpus file itself, without a database: it has the size issue 5 asks for, every masking row
 * of THREATS is attacked several times, and every case can be sent by every client (one statement
 * per line, none empty).
 */
class MaskingCorpusShapeTest {
  @Test
  void theCorpusCoversEveryMaskingRowWithAtLeast150Cases() throws Exception {
    List<MaskingCase> cases = MaskingCase.load();
    assertThat(cases).hasSizeGreaterThanOrEqualTo(150);
    Map<String, Long> perRow =
        cases.stream()
            .collect(Collectors.groupingBy(MaskingCase::row, TreeMap::new, Collectors.counting()));
    List<String> rows =
        IntStream.rangeClosed(1, 20).mapToObj(i -> String.format("M%02d", i)).toList();
    assertThat(perRow.keySet()).containsExactlyElementsOf(rows);
    perRow.forEach(
        (row, n) ->
            assertThat(n).as("cases of %s", row).isGreaterThanOrEqualTo(row.equals("M15") ? 1 : 5));
    for (MaskingCase c : cases) {
      assertThat(c.statements())
          .as(c.id())
          .isNotEmpty()
          .allSatisfy(s -> assertThat(s).isNotBlank());
      assertThat(c.statements())
          .as("%s: one statement per line (psql and raw clients send them one by one)", c.id())
          .allSatisfy(s -> assertThat(s).doesNotEndWith(";"));
    }
  }

  @Test
  void casesThatChangeTheirSessionAreRecognised() throws Exception {
    Map<String, MaskingCase> byId =
        MaskingCase.load().stream().collect(Collectors.toMap(MaskingCase::id, c -> c));
    assertThat(byId.get("M19-02").changesSession()).as("SET bytea_output").isTrue();
    assertThat(byId.get("M12-06").changesSession()).as("PREPARE").isTrue();
    assertThat(byId.get("M05-05").changesSession()).as("CREATE TEMP VIEW").isTrue();
    assertThat(byId.get("M18-01").changesSession()).as("set_config").isTrue();
    assertThat(byId.get("M01-01").changesSession()).isFalse();
    assertThat(byId.get("M10-01").notifies()).isTrue();
    assertThat(byId.get("M01-01").notifies()).isFalse();
  }
}
