package io.tributary.api;

/**
 * One statement of a function's (or a layer version's) resource-based policy, as AddPermission
 * creates it: always {@code Allow}, one principal, one action, the ARN of the qualifier it was
 * added on as its resource, and the conditions AddPermission's members stand for ({@code
 * SourceArn}, {@code SourceAccount}, {@code EventSourceToken}, {@code PrincipalOrgID}, {@code
 * FunctionUrlAuthType}, {@code InvokedViaFunctionUrl}). GetPolicy renders it as IAM JSON; the
 * evaluator in {@code io.tributary.cluster.policy} reads it as the same IAM statement.
 *
 * <p>Persisted inside {@code PermissionAdded} events: {@code invokedViaFunctionUrl} came later and
 * reads as {@code false} from older events.
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
    String functionUrlAuthType,
    boolean invokedViaFunctionUrl) {

  public PolicyStatement {
    qualifier = qualifier == null ? "" : qualifier;
  }
}
