package dev.warden.core.masking;

/**
 * Credentials issued by widely used providers, recognised by their documented prefixes, lengths and
 * alphabets: AWS access key ids ({@code AKIA}/{@code ASIA} + 16), GitHub tokens ({@code ghp_ gho_
 * ghs_ ghu_ ghr_} + 36, {@code github_pat_} + 22 + {@code _} + 59), Slack tokens ({@code xoxa-
 * xoxb- xoxp- xoxr-}), Stripe live keys ({@code sk_live_ rk_live_ pk_live_}), Google API keys
 * ({@code AIza} + 35), OpenAI keys ({@code sk-} + 48, {@code sk-proj-} and its kin), Twilio API key
 * sids ({@code SK} + 32 hex) and SendGrid keys ({@code SG.} + 22 + {@code .} + 43).
 */
final class ApiTokenDetector implements ContentDetector {
  @Override
  public DataKind kind() {
    return DataKind.API_TOKEN;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() < 20 || s.length() > 512) {
      return false;
    }
    return aws(s)
        || github(s)
        || slack(s)
        || stripe(s)
        || google(s)
        || openAi(s)
        || twilio(s)
        || sendGrid(s);
  }

  private static boolean aws(String s) {
    return s.length() == 20
        && (s.startsWith("AKIA") || s.startsWith("ASIA"))
        && Text.all(s, 4, 20, c -> Text.isUpper(c) || Text.isDigit(c));
  }

  private static boolean github(String s) {
    if (s.length() == 40
        && (s.startsWith("ghp_")
            || s.startsWith("gho_")
            || s.startsWith("ghs_")
            || s.startsWith("ghu_")
            || s.startsWith("ghr_"))) {
      return Text.all(s, 4, 40, Text::isAlnum);
    }
    return s.length() == 93
        && s.startsWith("github_pat_")
        && Text.all(s, 11, 33, Text::isAlnum)
        && s.charAt(33) == '_'
        && Text.all(s, 34, 93, Text::isAlnum);
  }

  private static boolean slack(String s) {
    // xoxb-<team digits>-<digits>-<secret>; user tokens have one more numeric part
    if (!(s.startsWith("xoxa-")
        || s.startsWith("xoxb-")
        || s.startsWith("xoxp-")
        || s.startsWith("xoxr-"))) {
      return false;
    }
    String[] parts = s.substring(5).split("-", -1);
    if (parts.length < 3 || parts.length > 5) {
      return false;
    }
    for (int i = 0; i < parts.length - 1; i++) {
      if (parts[i].length() < 8 || parts[i].length() > 16 || !Text.all(parts[i], Text::isDigit)) {
        return false;
      }
    }
    String secret = parts[parts.length - 1];
    return secret.length() >= 24 && secret.length() <= 64 && Text.all(secret, Text::isAlnum);
  }

  private static boolean stripe(String s) {
    return (s.startsWith("sk_live_") || s.startsWith("rk_live_") || s.startsWith("pk_live_"))
        && s.length() >= 8 + 24
        && s.length() <= 8 + 247
        && Text.all(s, 8, s.length(), Text::isAlnum);
  }

  private static boolean google(String s) {
    return s.length() == 39 && s.startsWith("AIza") && Text.all(s, 4, 39, Text::isBase64Url);
  }

  private static boolean openAi(String s) {
    if (!s.startsWith("sk-")) {
      return false;
    }
    if (s.length() == 51 && Text.all(s, 3, 51, Text::isAlnum)) {
      return true;
    }
    for (String project : new String[] {"sk-proj-", "sk-svcacct-", "sk-admin-"}) {
      if (s.startsWith(project)) {
        int n = s.length() - project.length();
        return n >= 40 && n <= 250 && Text.all(s, project.length(), s.length(), Text::isBase64Url);
      }
    }
    return false;
  }

  private static boolean twilio(String s) {
    return s.length() == 34 && s.startsWith("SK") && Text.all(s, 2, 34, Text::isLowerHex);
  }

  private static boolean sendGrid(String s) {
    return s.length() == 69
        && s.startsWith("SG.")
        && Text.all(s, 3, 25, Text::isBase64Url)
        && s.charAt(25) == '.'
        && Text.all(s, 26, 69, Text::isBase64Url);
  }
}
