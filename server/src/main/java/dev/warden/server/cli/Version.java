package dev.warden.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/** Warden's version, as Maven stamped it into the jar at build time. */
final class Version {
  private Version() {}

  static String current() {
    Properties properties = new Properties();
    try (InputStream in =
        Version.class.getResourceAsStream("/dev/warden/server/version.properties")) {
      if (in == null) {
        return "unknown";
      }
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties.getProperty("version", "unknown");
  }

  /** For {@code warden --version}. */
  static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"warden " + current()};
    }
  }
}
