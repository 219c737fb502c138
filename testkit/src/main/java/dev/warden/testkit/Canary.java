package dev.warden.testkit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A value planted in a database so that a leak of it can be recognised in the bytes a client
 * receives (THREATS H7, oracle O3). A masking strategy may legitimately keep part of a value (an
 * e-mail's domain, a card's last four digits), so the scanner looks for the whole value and for its
 * <em>unique parts</em>: the random pieces that only this value holds and that no mask keeps.
 *
 * @param name what the canary stands for in reports, e.g. {@code users.email#3}
 * @param value the value as the database stores and prints it
 * @param uniqueParts the pieces of {@code value} (or of another rendering of it, e.g. a card number
 *     without separators) that no masked form keeps; every one is at least {@link
 *     CanaryScanner#MIN_SUBSTRING} characters long
 * @param otherForms other byte renderings of the value that a client may receive, by label (a
 *     date's binary wire form, its text in another DateStyle); each is looked for exactly
 */
public record Canary(
    String name, String value, List<String> uniqueParts, Map<String, byte[]> otherForms) {
  public Canary {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    uniqueParts = List.copyOf(uniqueParts);
    for (String part : uniqueParts) {
      if (part.length() < CanaryScanner.MIN_SUBSTRING) {
        throw new IllegalArgumentException(
            "unique part '"
                + part
                + "' of "
                + name
                + " is shorter than "
                + CanaryScanner.MIN_SUBSTRING);
      }
    }
    Map<String, byte[]> forms = new LinkedHashMap<>();
    otherForms.forEach(
        (label, bytes) -> {
          if (bytes.length < CanaryScanner.MIN_SUBSTRING) {
            throw new IllegalArgumentException(
                "form " + label + " of " + name + " is too short to tell from noise");
          }
          forms.put(label, bytes.clone());
        });
    otherForms = java.util.Collections.unmodifiableMap(forms);
  }

  /** A canary whose every listed unique part must never reach the client. */
  public static Canary of(String name, String value, String... uniqueParts) {
    return new Canary(name, value, List.of(uniqueParts), Map.of());
  }

  /** This canary with one more rendering to look for. */
  public Canary withForm(String label, byte[] bytes) {
    Map<String, byte[]> forms = new LinkedHashMap<>(otherForms);
    forms.put(label, bytes);
    return new Canary(name, value, uniqueParts, forms);
  }

  @Override
  public String toString() {
    return name;
  }
}
