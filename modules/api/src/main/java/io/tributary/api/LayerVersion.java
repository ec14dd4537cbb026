package io.tributary.api;

import java.util.List;

/**
 * One published version of a layer, in Lambda's names; immutable once published. Its content is a
 * zip in the code store under {@code codeSha256Hex}, like a function's code. It is the persisted form
 * too: a field added later must get a default in the compact constructor.
 */
public record LayerVersion(
    String layerName,
    long version,
    String description,
    List<String> compatibleRuntimes,
    List<String> compatibleArchitectures,
    String licenseInfo,
    String codeSha256,
    long codeSize,
    String codeSha256Hex,
    long unzippedSize,
    String createdDate) {

  public LayerVersion {
    description = description == null ? "" : description;
    compatibleRuntimes = compatibleRuntimes == null ? List.of() : List.copyOf(compatibleRuntimes);
    compatibleArchitectures = compatibleArchitectures == null ? List.of() : List.copyOf(compatibleArchitectures);
  }

  /** What a function records of this version when it uses it. */
  public FunctionConfig.Layer asFunctionLayer(String layerVersionArn) {
    return new FunctionConfig.Layer(layerVersionArn, codeSize, codeSha256Hex, unzippedSize);
  }
}
