package io.tributary.http;

import io.tributary.api.Arns;
import io.tributary.api.CodeSigning;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.http.Operation.Call;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Code signing on AWS's paths, for a platform that verifies no signatures ({@link CodeSigning}):
 * every function is unsigned and no code signing config exists.
 *
 * <ul>
 *   <li>GetFunctionCodeSigningConfig answers an existing function as AWS answers an unsigned one,
 *       {@code {"CodeSigningConfigArn":"","FunctionName":"<name>"}} (Terraform reads it on every
 *       refresh of {@code aws_lambda_function}); DeleteFunctionCodeSigningConfig is a 204.
 *   <li>PutFunctionCodeSigningConfig names a config that cannot exist here: 404
 *       CodeSigningConfigNotFoundException, after the ARN's pattern and the function are checked.
 *   <li>ListCodeSigningConfigs is empty; Get, Update, Delete and ListFunctionsByCodeSigningConfig
 *       answer AWS's 404 ResourceNotFoundException; CreateCodeSigningConfig is refused (400).
 * </ul>
 */
final class CodeSigningRoutes {

  record PutFunctionCodeSigningConfig(String codeSigningConfigArn) {}

  /** The answer of GetFunctionCodeSigningConfig. */
  record FunctionCodeSigningConfig(String codeSigningConfigArn, String functionName) {}

  record CodeSigningConfigList(List<Object> codeSigningConfigs) {}

  private final FunctionAsk asker;
  private final Arns arns;

  CodeSigningRoutes(FunctionAsk asker, Arns arns) {
    this.asker = asker;
    this.arns = arns;
  }

  List<Operation> operations() {
    String function = "/2020-06-30/functions/{FunctionName}/code-signing-config";
    String configs = "/2020-04-22/code-signing-configs/";
    String config = "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}";
    return List.of(
        Operation.get("GetFunctionCodeSigningConfig", function, call -> getForFunction(call.variable(0))),
        Operation.put("PutFunctionCodeSigningConfig", function, this::putForFunction),
        Operation.delete("DeleteFunctionCodeSigningConfig", function, call -> deleteForFunction(call.variable(0))),
        Operation.post("CreateCodeSigningConfig", configs, call -> {
          throw CodeSigning.createRefused();
        }),
        Operation.get("ListCodeSigningConfigs", configs, CodeSigningRoutes::listConfigs),
        Operation.get("GetCodeSigningConfig", config, call -> missing(call.variable(0))),
        Operation.put("UpdateCodeSigningConfig", config, call -> missing(call.variable(0))),
        Operation.delete("DeleteCodeSigningConfig", config, call -> missing(call.variable(0))),
        Operation.get("ListFunctionsByCodeSigningConfig", config + "/functions", call -> missing(call.variable(0))));
  }

  private CompletionStage<HttpResponse> getForFunction(String reference) {
    return existing(reference).thenApply(name -> Responses.json(200, new FunctionCodeSigningConfig("", name)));
  }

  private CompletionStage<HttpResponse> putForFunction(Call call) {
    String arn = CodeSigning.arn(call.read(PutFunctionCodeSigningConfig.class).codeSigningConfigArn());
    return existing(call.variable(0)).thenApply(name -> {
      throw CodeSigning.attachRefused(arn);
    });
  }

  private CompletionStage<HttpResponse> deleteForFunction(String reference) {
    return existing(reference).thenApply(name -> Responses.empty(204));
  }

  private static CompletionStage<HttpResponse> listConfigs(Call call) {
    Paging.request(call.query(), 10_000);
    return CompletableFuture.completedFuture(Responses.json(200, new CodeSigningConfigList(List.of())));
  }

  private static CompletionStage<HttpResponse> missing(String arn) {
    throw CodeSigning.notFound(CodeSigning.arn(arn));
  }

  /** The name of the function {@code reference} names, once it is known to exist (AWS's 404 otherwise). */
  private CompletionStage<String> existing(String reference) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, null);
    return asker.<FunctionEntity.FunctionView>ask(ref.name(), r -> new FunctionEntity.Get(ref.qualifier(), r))
        .thenApply(view -> ref.name());
  }
}
