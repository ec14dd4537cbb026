package io.tributary.http;

import io.tributary.cluster.function.FunctionEntity;

/** Placeholder until the resource-policy evaluator is merged: the URL permission statement AWS requires. */
final class UrlPolicy {

  private UrlPolicy() {}

  static FunctionUrlEndpoint.Authorizer.Decision anonymous(FunctionEntity.UrlTarget target) {
    boolean allowed = target.policy().stream().anyMatch(s -> "*".equals(s.principal())
        && "lambda:InvokeFunctionUrl".equals(s.action()) && "NONE".equals(s.functionUrlAuthType()));
    return new FunctionUrlEndpoint.Authorizer.Decision(allowed, allowed ? "allowed" : "no statement allows it");
  }
}
