package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.api.Arns;
import io.tributary.api.LambdaException;
import io.tributary.api.RuntimeManagementConfig;
import io.tributary.api.Validation;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.http.Operation.Call;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Two settings of a function that deploy tools write and read, stored by its {@link FunctionEntity}
 * and answered in AWS's shapes:
 *
 * <ul>
 *   <li>Get/PutRuntimeManagementConfig on {@code /2021-07-20/functions/{fn}/runtime-management-config},
 *       per {@code $LATEST} (no {@code Qualifier}) or published version, {@code Auto} until put. A node
 *       runs the interpreter it has for the runtime whatever is pinned.
 *   <li>Get/PutFunctionRecursionConfig on {@code /2024-08-31/functions/{fn}/recursion-config}, per
 *       function (AWS's FunctionName is unqualified here and the operation takes no Qualifier),
 *       {@code Terminate} until put. It takes effect once functions can be chained through topics
 *       and the event bus.
 * </ul>
 */
final class FunctionSettingsRoutes {

  private static final String UNQUALIFIED_FUNCTION_NAME = "(arn:(aws[a-zA-Z-]*)?:lambda:)?"
      + "([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)";

  record PutRuntimeManagementConfig(String updateRuntimeOn, String runtimeVersionArn) {}

  /** The answer of both: RuntimeVersionArn only with Manual, as AWS sends it. */
  record RuntimeManagementConfigAnswer(String updateRuntimeOn,
                                       @JsonInclude(Include.NON_NULL) String runtimeVersionArn, String functionArn) {}

  /** The request of Put and the answer of both. */
  record RecursionConfig(String recursiveLoop) {}

  private final FunctionAsk asker;
  private final Arns arns;

  FunctionSettingsRoutes(FunctionAsk asker, Arns arns) {
    this.asker = asker;
    this.arns = arns;
  }

  List<Operation> operations() {
    String runtime = "/2021-07-20/functions/{FunctionName}/runtime-management-config";
    String recursion = "/2024-08-31/functions/{FunctionName}/recursion-config";
    return List.of(
        Operation.get("GetRuntimeManagementConfig", runtime,
            call -> getRuntimeManagement(call.variable(0), call.parameter("Qualifier"))),
        Operation.put("PutRuntimeManagementConfig", runtime, this::putRuntimeManagement),
        Operation.get("GetFunctionRecursionConfig", recursion, call -> getRecursion(call.variable(0))),
        Operation.put("PutFunctionRecursionConfig", recursion, this::putRecursion));
  }

  private CompletionStage<HttpResponse> getRuntimeManagement(String reference, String qualifier) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, qualifier);
    return asker.<RuntimeManagementConfig>ask(ref.name(),
            r -> new FunctionEntity.GetRuntimeManagementConfig(ref.qualifier(), r))
        .thenApply(config -> Responses.json(200, answer(ref, config)));
  }

  private CompletionStage<HttpResponse> putRuntimeManagement(Call call) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, call.variable(0), call.parameter("Qualifier"));
    PutRuntimeManagementConfig b = call.read(PutRuntimeManagementConfig.class);
    RuntimeManagementConfig config = RuntimeManagementConfig.of(b.updateRuntimeOn(), b.runtimeVersionArn());
    return asker.<RuntimeManagementConfig>ask(ref.name(),
            r -> new FunctionEntity.PutRuntimeManagementConfig(ref.qualifier(), config, r))
        .thenApply(saved -> Responses.json(200, answer(ref, saved)));
  }

  private RuntimeManagementConfigAnswer answer(Arns.FunctionRef ref, RuntimeManagementConfig config) {
    return new RuntimeManagementConfigAnswer(config.updateRuntimeOn(), config.runtimeVersionArn(),
        arns.functionArn(ref.name(), ref.qualifier()));
  }

  private CompletionStage<HttpResponse> getRecursion(String reference) {
    String name = unqualified(reference);
    return asker.<String>ask(name, FunctionEntity.GetRecursionConfig::new)
        .thenApply(loop -> Responses.json(200, new RecursionConfig(loop)));
  }

  private CompletionStage<HttpResponse> putRecursion(Call call) {
    String name = unqualified(call.variable(0));
    String loop = Validation.recursiveLoop(call.read(RecursionConfig.class).recursiveLoop());
    return asker.<String>ask(name, r -> new FunctionEntity.PutRecursionConfig(loop, r))
        .thenApply(saved -> Responses.json(200, new RecursionConfig(saved)));
  }

  /** AWS's UnqualifiedFunctionName: a name, partial or full ARN without a version or alias. */
  private String unqualified(String reference) {
    Arns.FunctionRef ref = arns.parseFunction(reference);
    if (ref.qualifier() != null) {
      throw LambdaException.validation(reference, "functionName",
          "Member must satisfy regular expression pattern: " + UNQUALIFIED_FUNCTION_NAME);
    }
    return ref.name();
  }
}
