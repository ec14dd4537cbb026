package io.tributary.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A validated Lambda deployment package: the zip exactly as uploaded, with its {@code CodeSize}
 * and {@code CodeSha256}.
 *
 * <p>The bytes are kept as they are, never re-packed, so whatever the zip records survives,
 * notably the unix permissions in each entry's external attributes (a {@code bootstrap} with mode
 * 0755 stays executable once a node unpacks it). {@link #sha256Hex()} is the content address under
 * which the code is stored; {@link #sha256Base64()} is what AWS reports as {@code CodeSha256}.
 *
 * <p>{@link #fromZip} checks, in this order, and answers each failure with a 400
 * {@code InvalidParameterValueException} that says what to fix:
 *
 * <ol>
 *   <li>the input is not empty and at most {@link #MAX_ZIPPED_BYTES} (50 MB);
 *   <li>it is a zip: it has an end-of-central-directory record (plain or ZIP64) whose central
 *       directory lies inside the file. As in Info-ZIP and Python's {@code zipfile}, bytes
 *       prepended to the archive (a self-extractor stub) are tolerated: offsets are shifted by the
 *       distance between where the directory is and where the record says it is;
 *   <li>it has at least one entry;
 *   <li>the sizes declared in the central directory add up to at most {@link #MAX_UNZIPPED_BYTES}
 *       (250 MB) &mdash; a cheap early rejection of honest large packages;
 *   <li>every entry is stored or deflated, not encrypted, and lies inside the file;
 *   <li>every entry actually inflates, to the size and CRC-32 it declares, and the bytes actually
 *       produced by all entries together stay within {@link #MAX_UNZIPPED_BYTES}. Declared sizes
 *       are never trusted for this limit: a zip bomb may declare 1 KB and inflate to terabytes, so
 *       inflation goes through one 64 KB scratch buffer, is counted as it goes and stops as soon
 *       as the total passes the limit. Validation therefore costs at most 250 MB of inflation
 *       (well under a second of CPU) and a constant amount of memory, whatever the archive claims.
 * </ol>
 *
 * <p>Entries that point at the same compressed bytes (the "overlapping" zip bomb) are each
 * counted, so they cannot get around the limit either.
 */
public final class CodePackage {

  /** Largest zip accepted in a direct upload: 50 MB, AWS's limit. */
  public static final long MAX_ZIPPED_BYTES = 52_428_800L;

  /** Largest total size of all files once unzipped: 250 MB, AWS's limit. */
  public static final long MAX_UNZIPPED_BYTES = 262_144_000L;

  static final String COULD_NOT_UNZIP =
      "Could not unzip uploaded file. Please check your file, then try to upload again.";

  private static final int EOCD_SIGNATURE = 0x06054b50;
  private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
  private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
  private static final int CENTRAL_SIGNATURE = 0x02014b50;
  private static final int LOCAL_SIGNATURE = 0x04034b50;
  private static final int EOCD_LENGTH = 22;
  private static final int ZIP64_LOCATOR_LENGTH = 20;
  private static final int ZIP64_EOCD_LENGTH = 56;
  private static final int CENTRAL_HEADER_LENGTH = 46;
  private static final int LOCAL_HEADER_LENGTH = 30;
  private static final int STORED = 0;
  private static final int DEFLATED = 8;

  private final byte[] bytes;
  private final String sha256Hex;
  private final String sha256Base64;

  private final long unzippedSize;

  private CodePackage(byte[] bytes, byte[] sha256, long unzippedSize) {
    this.bytes = bytes;
    this.unzippedSize = unzippedSize;
    this.sha256Hex = HexFormat.of().formatHex(sha256);
    this.sha256Base64 = Base64.getEncoder().encodeToString(sha256);
  }

  /**
   * Validates {@code zip} as a deployment package (see the class comment). The array is kept, not
   * copied: the caller must not change it afterwards.
   *
   * @throws LambdaException 400 {@code InvalidParameterValueException} if it is not a valid package
   */
  public static CodePackage fromZip(byte[] zip) {
    if (zip == null || zip.length == 0) {
      throw LambdaException.invalidParameter(
          "The deployment package is empty (0 bytes). Upload a .zip file that contains your"
              + " function code.");
    }
    if (zip.length > MAX_ZIPPED_BYTES) {
      throw LambdaException.invalidParameter(
          "Zipped size must be smaller than " + MAX_ZIPPED_BYTES + " bytes, but the uploaded file"
              + " is " + zip.length + " bytes. Remove unneeded files or dependencies from the"
              + " package.");
    }
    Validation validation = new Validation(zip);
    validation.run();
    return new CodePackage(zip, sha256(zip), validation.inflatedTotal);
  }

  /**
   * Decodes the base64 {@code ZipFile} of a CreateFunction or UpdateFunctionCode request. Line
   * breaks and other whitespace are ignored; anything else that is not standard base64 is a 400.
   */
  public static byte[] decodeBase64(String zipFile) {
    if (zipFile == null) {
      throw LambdaException.invalidParameter(
          "ZipFile is missing. Provide the deployment package as base64-encoded zip bytes.");
    }
    try {
      return Base64.getDecoder().decode(stripWhitespace(zipFile));
    } catch (IllegalArgumentException e) {
      throw LambdaException.invalidParameter(
          "Could not decode ZipFile: it must be the zip file's bytes in standard base64 ("
              + e.getMessage() + "). Please check your file, then try to upload again.");
    }
  }

  /** The zip exactly as uploaded. Not a copy: do not modify. */
  public byte[] bytes() {
    return bytes;
  }

  /** {@code CodeSize}: the zip's length in bytes. */
  public long size() {
    return bytes.length;
  }

  /** The bytes of all its files once unzipped, which the 250 MB limit counts with the function's layers. */
  public long unzippedSize() {
    return unzippedSize;
  }

  /** {@code CodeSha256}: the base64 SHA-256 of the zip bytes, as AWS reports it. */
  public String sha256Base64() {
    return sha256Base64;
  }

  /** Lower-case hex SHA-256 of the zip bytes: the package's storage key. */
  public String sha256Hex() {
    return sha256Hex;
  }

  /** Converts a storage key back to {@code CodeSha256}. */
  public static String sha256Base64OfHex(String sha256Hex) {
    return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CodePackage other && other.sha256Hex.equals(sha256Hex);
  }

  @Override
  public int hashCode() {
    return sha256Hex.hashCode();
  }

  @Override
  public String toString() {
    return "CodePackage[size=" + bytes.length + ", sha256=" + sha256Hex + "]";
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static String stripWhitespace(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        StringBuilder sb = new StringBuilder(s.length());
        s.chars().filter(c -> !Character.isWhitespace(c)).forEach(c -> sb.append((char) c));
        return sb.toString();
      }
    }
    return s;
  }

  /** One pass over the central directory; see the class comment. */
  private static final class Validation {
    private final byte[] zip;
    private final byte[] scratch = new byte[64 * 1024];
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private long inflatedTotal;

    Validation(byte[] zip) {
      this.zip = zip;
    }

    void run() {
      try {
        check();
      } finally {
        inflater.end();
      }
    }

    private void check() {
      int eocd = findEndOfCentralDirectory();
      if (eocd < 0) {
        throw LambdaException.invalidParameter(COULD_NOT_UNZIP);
      }
      long entries = u16(eocd + 10);
      long directorySize = u32(eocd + 12);
      long directoryOffset = u32(eocd + 16);
      long directoryEnd = eocd;
      if (entries == 0xFFFF || directorySize == 0xFFFFFFFFL || directoryOffset == 0xFFFFFFFFL) {
        int locator = eocd - ZIP64_LOCATOR_LENGTH;
        if (locator >= 0 && u32(locator) == ZIP64_LOCATOR_SIGNATURE) {
          long zip64Eocd = u64(locator + 8);
          if (zip64Eocd < 0 || zip64Eocd > locator - ZIP64_EOCD_LENGTH
              || u32((int) zip64Eocd) != ZIP64_EOCD_SIGNATURE) {
            // The ZIP64 record may also have moved with prepended bytes.
            zip64Eocd = locator - ZIP64_EOCD_LENGTH;
            if (zip64Eocd < 0 || u32((int) zip64Eocd) != ZIP64_EOCD_SIGNATURE) {
              throw corrupt("its ZIP64 end of central directory record is missing");
            }
          }
          int z = (int) zip64Eocd;
          entries = u64(z + 32);
          directorySize = u64(z + 40);
          directoryOffset = u64(z + 48);
          directoryEnd = zip64Eocd;
        }
      }
      if (directorySize < 0 || directoryOffset < 0 || directorySize > directoryEnd) {
        throw corrupt("its central directory lies outside the file");
      }
      long shift = directoryEnd - directorySize - directoryOffset;
      if (shift < 0) {
        throw corrupt("its central directory lies outside the file");
      }
      if (entries == 0 || directorySize == 0) {
        throw LambdaException.invalidParameter(
            "The deployment package is a zip file with no files in it. Add your function code"
                + " to the zip and upload it again.");
      }
      if (entries > directorySize / CENTRAL_HEADER_LENGTH) {
        throw corrupt("its central directory is truncated");
      }
      long declaredTotal = 0;
      int p = (int) (directoryEnd - directorySize);
      for (long i = 0; i < entries; i++) {
        Entry entry = readCentralHeader(p, shift, directoryEnd);
        declaredTotal += entry.uncompressedSize;
        if (declaredTotal > MAX_UNZIPPED_BYTES || entry.uncompressedSize < 0) {
          throw tooLarge();
        }
        p = entry.next;
      }
      p = (int) (directoryEnd - directorySize);
      for (long i = 0; i < entries; i++) {
        Entry entry = readCentralHeader(p, shift, directoryEnd);
        checkData(entry);
        p = entry.next;
      }
    }

    private record Entry(
        String name,
        int flags,
        int method,
        long crc,
        long compressedSize,
        long uncompressedSize,
        long localOffset,
        int next) {}

    private Entry readCentralHeader(int p, long shift, long directoryEnd) {
      if (p + CENTRAL_HEADER_LENGTH > directoryEnd || u32(p) != CENTRAL_SIGNATURE) {
        throw corrupt("its central directory is damaged");
      }
      int flags = u16(p + 8);
      int method = u16(p + 10);
      long crc = u32(p + 16);
      long compressedSize = u32(p + 20);
      long uncompressedSize = u32(p + 24);
      int nameLength = u16(p + 28);
      int extraLength = u16(p + 30);
      int commentLength = u16(p + 32);
      long localOffset = u32(p + 42);
      int next = p + CENTRAL_HEADER_LENGTH + nameLength + extraLength + commentLength;
      if (next > directoryEnd) {
        throw corrupt("its central directory is damaged");
      }
      String name =
          new String(zip, p + CENTRAL_HEADER_LENGTH, nameLength, StandardCharsets.UTF_8);
      if (uncompressedSize == 0xFFFFFFFFL
          || compressedSize == 0xFFFFFFFFL
          || localOffset == 0xFFFFFFFFL) {
        int extra = p + CENTRAL_HEADER_LENGTH + nameLength;
        int extraEnd = extra + extraLength;
        while (extra + 4 <= extraEnd) {
          int id = u16(extra);
          int length = u16(extra + 2);
          int field = extra + 4;
          if (field + length > extraEnd) {
            break;
          }
          if (id == 0x0001) {
            int end = field + length;
            if (uncompressedSize == 0xFFFFFFFFL && field + 8 <= end) {
              uncompressedSize = u64(field);
              field += 8;
            }
            if (compressedSize == 0xFFFFFFFFL && field + 8 <= end) {
              compressedSize = u64(field);
              field += 8;
            }
            if (localOffset == 0xFFFFFFFFL && field + 8 <= end) {
              localOffset = u64(field);
            }
            break;
          }
          extra = field + length;
        }
      }
      return new Entry(
          name, flags, method, crc, compressedSize, uncompressedSize, localOffset + shift, next);
    }

    private void checkData(Entry entry) {
      if ((entry.flags & 1) != 0) {
        throw LambdaException.invalidParameter(
            "Could not unzip uploaded file: entry '" + entry.name + "' is encrypted. Upload a zip"
                + " file without a password.");
      }
      if (entry.method != STORED && entry.method != DEFLATED) {
        throw LambdaException.invalidParameter(
            "Could not unzip uploaded file: entry '" + entry.name + "' uses compression method "
                + entry.method + "; only stored and deflated entries are supported. Re-create the"
                + " zip with a standard zip tool, then try to upload again.");
      }
      long local = entry.localOffset;
      if (local < 0 || local + LOCAL_HEADER_LENGTH > zip.length
          || u32((int) local) != LOCAL_SIGNATURE) {
        throw corrupt("entry '" + entry.name + "' is damaged");
      }
      long dataStart = local + LOCAL_HEADER_LENGTH + u16((int) local + 26) + u16((int) local + 28);
      if (entry.compressedSize < 0 || dataStart + entry.compressedSize > zip.length) {
        throw corrupt("entry '" + entry.name + "' is truncated");
      }
      crc.reset();
      long produced =
          entry.method == STORED
              ? copy(entry, (int) dataStart)
              : inflate(entry, (int) dataStart);
      if (produced != entry.uncompressedSize || crc.getValue() != entry.crc) {
        throw corrupt("entry '" + entry.name + "' is damaged");
      }
    }

    private long copy(Entry entry, int dataStart) {
      count(entry.compressedSize);
      crc.update(zip, dataStart, (int) entry.compressedSize);
      return entry.compressedSize;
    }

    private long inflate(Entry entry, int dataStart) {
      inflater.reset();
      inflater.setInput(zip, dataStart, (int) entry.compressedSize);
      long produced = 0;
      try {
        while (!inflater.finished()) {
          int n = inflater.inflate(scratch);
          if (n == 0 && !inflater.finished()
              && (inflater.needsInput() || inflater.needsDictionary())) {
            throw corrupt("entry '" + entry.name + "' is truncated");
          }
          count(n);
          crc.update(scratch, 0, n);
          produced += n;
        }
      } catch (DataFormatException e) {
        throw corrupt("entry '" + entry.name + "' is damaged");
      }
      return produced;
    }

    private void count(long n) {
      inflatedTotal += n;
      if (inflatedTotal > MAX_UNZIPPED_BYTES) {
        throw tooLarge();
      }
    }

    private int findEndOfCentralDirectory() {
      int last = zip.length - EOCD_LENGTH;
      int first = Math.max(0, last - 0xFFFF);
      for (int p = last; p >= first; p--) {
        if (u32(p) == EOCD_SIGNATURE && p + EOCD_LENGTH + u16(p + 20) <= zip.length) {
          return p;
        }
      }
      return -1;
    }

    private static LambdaException corrupt(String what) {
      return LambdaException.invalidParameter(
          "Could not unzip uploaded file: " + what
              + ". Please check your file, then try to upload again.");
    }

    private static LambdaException tooLarge() {
      return LambdaException.invalidParameter(
          "Unzipped size must be smaller than " + MAX_UNZIPPED_BYTES + " bytes");
    }

    private int u16(int p) {
      return (zip[p] & 0xFF) | (zip[p + 1] & 0xFF) << 8;
    }

    private long u32(int p) {
      return (u16(p) | (long) u16(p + 2) << 16) & 0xFFFFFFFFL;
    }

    /** Little-endian unsigned 64-bit value; anything over 2^63 comes back negative. */
    private long u64(int p) {
      return u32(p) | u32(p + 4) << 32;
    }
  }
}
