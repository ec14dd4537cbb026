package io.tributary.api;

/**
 * One statement of a function's resource-based policy, as AddPermission creates it. Tributary
 * stores and returns policies; it does not evaluate them (there is no IAM).
 */
public record PolicyStatement(
    String sid,
    String qualifier,
    String action,
    String principal,
    String resource,
    String sourceArn,
    String sourceAccount,
    String eventSourceToken,
    String principalOrgId,
    String functionUrlAuthType) {

  public PolicyStatement {
    qualifier = qualifier == null ? "" : qualifier;
  }
}
