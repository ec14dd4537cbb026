package io.tributary.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of an environment's processes, in bytes, from the {@code VmRSS} and {@code VmHWM}
 * lines of {@code /proc/<pid>/status}.
 *
 * <p>Those lines are in kB whatever the kernel's page size. {@code /proc/<pid>/statm} counts pages,
 * which are 4 KiB on x86-64 but 64 KiB on many arm64 kernels: read as 4 KiB pages, an arm64
 * environment's memory came out sixteen times too small and MemorySize was never enforced.
 *
 * <p>A process counts as 0 once it has gone (no status file) or while it is a zombie (a status
 * without these lines): the environment's processes come and go between a listing and the reads.
 */
final class ResidentMemory {

  private ResidentMemory() {}

  /** The process and all its descendants. */
  static long ofTree(ProcessHandle root) {
    long total = of(root.pid());
    for (ProcessHandle child : root.descendants().toList()) {
      total += of(child.pid());
    }
    return total;
  }

  static long of(long pid) {
    return field(pid, "VmRSS:");
  }

  /** The most the process has held resident since it started. */
  static long peakOf(long pid) {
    return field(pid, "VmHWM:");
  }

  private static long field(long pid, String name) {
    try {
      return statusField(Files.readString(Path.of("/proc", Long.toString(pid), "status")), name);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** A kB line of a status file in bytes: {@code "VmRSS:\t    1636 kB"} is 1,675,264; 0 when the line is absent. */
  static long statusField(String status, String name) {
    return status.lines().filter(line -> line.startsWith(name)).findFirst()
        .map(line -> Long.parseLong(line.substring(name.length()).replace("kB", "").trim()) * 1024)
        .orElse(0L);
  }
}
