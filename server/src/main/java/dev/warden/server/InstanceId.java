package dev.warden.server;

import dev.warden.server.config.AuditConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * This Warden instance's name in the audit trail (the id of its hash chain): configured, or
 * generated once and kept in the data directory, so that a restart continues the same chain and
 * several instances sharing a store stay apart.
 */
final class InstanceId {
  static final String FILE = "instance-id";

  private InstanceId() {}

  static String loadOrCreate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    if (Files.exists(file)) {
      String id = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (!AuditConfig.INSTANCE_ID.matcher(id).matches()) {
        throw new IOException(
            file + " does not hold a valid instance id (letters, digits, '.', '_', '-')");
      }
      return id;
    }
    byte[] random = new byte[6];
    new SecureRandom().nextBytes(random);
    String id = "w-" + HexFormat.of().formatHex(random);
    Path tmp = dataDir.resolve(FILE + ".tmp");
    Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return id;
  }
}
