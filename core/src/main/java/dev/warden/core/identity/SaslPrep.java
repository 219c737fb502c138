package dev.warden.core.identity;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * SASLprep (RFC 4013) of a password, the way PostgreSQL's {@code pg_saslprep} applies it, so that a
 * verifier derived here matches one derived by the server and by libpq for the same password.
 *
 * <p>PostgreSQL's rules, which differ from a strict reading of the RFC and are followed on purpose:
 *
 * <ul>
 *   <li>pure ASCII is used as it is, control characters included;
 *   <li>bytes that are not valid UTF-8, and any string that SASLprep would reject (prohibited or
 *       unassigned code points, a bidi violation, or nothing left after mapping), are used as raw
 *       bytes instead of failing: the password still works, just without normalisation;
 *   <li>the prohibited, unassigned and bidi checks look at the mapped string <em>before</em> NFKC.
 * </ul>
 *
 * Bidi classes come from the JDK's current Unicode data rather than Unicode 3.2; the two only
 * differ for code points that the 3.2 unassigned check already refuses.
 */
final class SaslPrep {
  private SaslPrep() {}

  /** The bytes that enter Hi(): normalised if SASLprep accepts the password, raw otherwise. */
  static byte[] normalize(byte[] password) {
    if (isAscii(password)) {
      return password.clone();
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(password))
              .toString();
    } catch (CharacterCodingException e) {
      return password.clone();
    }
    int[] mapped = map(text);
    if (mapped.length == 0 || prohibited(mapped) || !bidiOk(mapped)) {
      return password.clone();
    }
    String normalized =
        Normalizer.normalize(new String(mapped, 0, mapped.length), Normalizer.Form.NFKC);
    return normalized.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean isAscii(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }

  /** RFC 4013 §2.1: non-ASCII spaces (C.1.2) become U+0020, B.1 characters are dropped. */
  private static int[] map(String text) {
    return text.codePoints()
        .filter(cp -> !mappedToNothing(cp))
        .map(cp -> nonAsciiSpace(cp) ? ' ' : cp)
        .toArray();
  }

  private static boolean nonAsciiSpace(int cp) {
    return cp == 0x00A0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200B)
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }

  private static boolean mappedToNothing(int cp) {
    return cp == 0x00AD
        || cp == 0x034F
        || cp == 0x1806
        || (cp >= 0x180B && cp <= 0x180D)
        || (cp >= 0x200B && cp <= 0x200D)
        || cp == 0x2060
        || (cp >= 0xFE00 && cp <= 0xFE0F)
        || cp == 0xFEFF;
  }

  private static boolean prohibited(int[] cps) {
    for (int cp : cps) {
      if (prohibitedOutput(cp) || Unicode32Unassigned.contains(cp)) {
        return true;
      }
    }
    return false;
  }

  /** RFC 4013 §2.3: tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9. */
  private static boolean prohibitedOutput(int cp) {
    return nonAsciiSpace(cp)
        || cp <= 0x1F
        || (cp >= 0x7F && cp <= 0x9F)
        || cp == 0x0340
        || cp == 0x0341
        || cp == 0x06DD
        || cp == 0x070F
        || cp == 0x180E
        || (cp >= 0x200C && cp <= 0x200F)
        || (cp >= 0x2028 && cp <= 0x202E)
        || (cp >= 0x2060 && cp <= 0x2063)
        || (cp >= 0x206A && cp <= 0x206F)
        || (cp >= 0x2FF0 && cp <= 0x2FFB)
        || (cp >= 0xD800 && cp <= 0xF8FF)
        || (cp >= 0xFDD0 && cp <= 0xFDEF)
        || cp == 0xFEFF
        || (cp >= 0xFFF9 && cp <= 0xFFFD)
        || (cp & 0xFFFE) == 0xFFFE
        || (cp >= 0x1D173 && cp <= 0x1D17A)
        || cp == 0xE0001
        || (cp >= 0xE0020 && cp <= 0xE007F)
        || cp >= 0xF0000;
  }

  /** RFC 3454 §6: RandALCat strings hold no LCat and begin and end with RandALCat. */
  private static boolean bidiOk(int[] cps) {
    boolean anyRandAl = false;
    boolean anyL = false;
    for (int cp : cps) {
      anyRandAl |= randAl(cp);
      anyL |= Character.getDirectionality(cp) == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
    }
    return !anyRandAl || (!anyL && randAl(cps[0]) && randAl(cps[cps.length - 1]));
  }

  private static boolean randAl(int cp) {
    byte d = Character.getDirectionality(cp);
    return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT
        || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
  }
}
