package dev.warden.store.files;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes files that only Warden's own user may read: keys, generated certificates' private keys.
 * The permissions are set when the file is created, never after, so there is no moment at which
 * another user could open it; the content is written to a temporary file, fsynced, moved into place
 * and the directory fsynced, so a crash leaves either the old file or the new one, never a lost or
 * half-written key.
 */
public final class PrivateFiles {
  private static final Set<PosixFilePermission> OWNER_READ_WRITE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  private PrivateFiles() {}

  /**
   * Whether the file system has POSIX permissions. Where it has not (Windows, for {@code warden
   * login} on a laptop), files are created with the platform's defaults: a user's profile directory
   * there is already private to them.
   */
  private static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  private static FileAttribute<?>[] ownerOnly(Set<PosixFilePermission> permissions) {
    return posix()
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)}
        : new FileAttribute<?>[0];
  }

  /** Creates {@code directory} and its parents, the last one readable only by its owner. */
  public static void createDirectory(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return;
    }
    Path parent = directory.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(directory, ownerOnly(OWNER_ONLY_DIRECTORY));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(directory)) {
        throw e;
      }
    }
  }

  /** Replaces {@code file} with {@code content}, durably; the file has mode 0600. */
  public static void write(Path file, byte[] content) throws IOException {
    Path directory = file.toAbsolutePath().getParent();
    Path temporary =
        Files.createTempFile(
            directory, "." + file.getFileName() + ".", ".tmp", ownerOnly(OWNER_READ_WRITE));
    try {
      Files.write(temporary, content);
      try (FileChannel ch = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      try {
        Files.move(
            temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
      if (posix()) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
          dir.force(true);
        }
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** True if group or others may read or write {@code file} (never, without POSIX permissions). */
  public static boolean isExposed(Path file) throws IOException {
    if (!posix()) {
      return false;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
    return permissions.contains(PosixFilePermission.GROUP_READ)
        || permissions.contains(PosixFilePermission.GROUP_WRITE)
        || permissions.contains(PosixFilePermission.OTHERS_READ)
        || permissions.contains(PosixFilePermission.OTHERS_WRITE);
  }
}
