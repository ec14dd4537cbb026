package io.tributary.api;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Where a runtime fetches a function's zip, by the hex SHA-256 the function's configuration names. */
public interface CodeSource {

  CompletionStage<Optional<byte[]>> read(String sha256Hex);
}
