package io.tributary.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a {@code java*} environment needs besides the function's code: AWS's own runtime interface
 * client and the libraries it runs on (found where the node loads them from), and its JNI library
 * unpacked once per node, because the client otherwise unpacks it to one fixed path in /tmp and
 * parallel cold starts overwrite each other's copy.
 */
record JvmSupport(String classpath, Path jniLibrary) {

  static final String MAIN_CLASS = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";
  private static final List<String> CLASSES = List.of(
      "com/amazonaws/services/lambda/runtime/api/client/AWSLambda.class",
      "com/amazonaws/services/lambda/runtime/RequestHandler.class",
      "com/amazonaws/services/lambda/runtime/serialization/PojoSerializer.class",
      "software/amazon/awssdk/utilslite/SdkInternalThreadLocal.class");

  /** Null when the node was built without the runtime interface client (java* runtimes then fail clearly). */
  static JvmSupport locate(Path workDir) {
    Set<String> jars = new LinkedHashSet<>();
    for (String resource : CLASSES) {
      URL url = JvmSupport.class.getClassLoader().getResource(resource);
      if (url == null) {
        return null;
      }
      jars.add(jarOf(url).toString());
    }
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT).contains("aarch64") ? "aarch_64" : "x86_64";
    String library = "libaws-lambda-jni.linux-" + arch + ".so";
    Path target = workDir.resolve("jvm").resolve(library);
    try (InputStream in = JvmSupport.class.getClassLoader().getResourceAsStream("jni/" + library)) {
      if (in == null) {
        return null;
      }
      Files.createDirectories(target.getParent());
      Path scratch = Files.createTempFile(target.getParent(), library, ".tmp");
      Files.copy(in, scratch, StandardCopyOption.REPLACE_EXISTING);
      Files.move(scratch, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("could not unpack the Lambda runtime client's JNI library into " + target, e);
    }
    return new JvmSupport(String.join(":", jars), target);
  }

  private static Path jarOf(URL url) {
    try {
      String spec = url.toString();
      if (spec.startsWith("jar:")) {
        return Path.of(new URL(spec.substring(4, spec.indexOf("!/"))).toURI());
      }
      // A directory on the classpath (an IDE build): the class file's root.
      Path file = Path.of(url.toURI());
      String resource = CLASSES.stream().filter(spec::endsWith).findFirst().orElseThrow();
      Path root = file;
      for (int i = 0; i < resource.split("/").length; i++) {
        root = root.getParent();
      }
      return root;
    } catch (URISyntaxException | IOException e) {
      throw new IllegalStateException("cannot locate " + url, e);
    }
  }

  /**
   * The JVM command of an environment: heap from MemorySize; on the class path the function's classes
   * and lib/*.jar first, then its layers' java/lib/*.jar ({@code layers} null when it has none), as AWS's
   * {@code /var/task:/var/task/lib/*:/opt/java/lib/*}.
   */
  List<String> command(String java, int memorySize, Path taskRoot, Path layers, String handler) {
    List<String> command = new ArrayList<>(List.of(java,
        "-Xmx" + Math.max(64, memorySize * 85 / 100) + "m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Xshare:auto",
        "-Dcom.amazonaws.services.lambda.runtime.api.client.runtimeapi.NativeClient.JNI=" + jniLibrary,
        "-cp", taskRoot + ":" + taskRoot.resolve("lib") + "/*:"
            + (layers == null ? "" : layers.resolve("java/lib") + "/*:") + classpath,
        MAIN_CLASS, handler));
    return command;
  }
}
