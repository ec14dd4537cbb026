package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Resident memory as the memory watchdog reads it. */
class ResidentMemoryTest {

  /** A python3 environment on an arm64 kernel with 64 KiB pages: its statm said 2048 resident pages. */
  private static final String STATUS = """
      Name:\tpython3
      State:\tS (sleeping)
      Pid:\t4242
      VmPeak:\t  210944 kB
      VmSize:\t  204800 kB
      VmHWM:\t  155648 kB
      VmRSS:\t  131072 kB
      RssAnon:\t  126976 kB
      Threads:\t1
      """;

  /** An exited child not yet reaped: the kernel drops the memory lines. */
  private static final String ZOMBIE = """
      Name:\tnode
      State:\tZ (zombie)
      Pid:\t4243
      Threads:\t1
      """;

  @Test
  void residentMemoryIsReadInKilobytesWhateverThePageSize() {
    assertEquals(128L * 1024 * 1024, ResidentMemory.statusField(STATUS, "VmRSS:"));
    assertEquals(152L * 1024 * 1024, ResidentMemory.statusField(STATUS, "VmHWM:"));
  }

  @Test
  void aZombieOrAProcessThatHasGoneCountsAsNothing() throws Exception {
    assertEquals(0, ResidentMemory.statusField(ZOMBIE, "VmRSS:"));
    long gone = Long.parseLong(Files.readString(Path.of("/proc/sys/kernel/pid_max")).trim()) + 1;
    assertEquals(0, ResidentMemory.of(gone));
    assertEquals(0, ResidentMemory.peakOf(gone));
    assertTrue(ResidentMemory.of(ProcessHandle.current().pid()) > 0, "this JVM is resident");
  }
}
