package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.AliasConfig;
import io.tributary.api.Arns;
import io.tributary.api.CodePackage;
import io.tributary.api.CodeSigning;
import io.tributary.api.ConfigurationPatch;
import io.tributary.api.Destination;
import io.tributary.api.FunctionConfig;
import io.tributary.api.LambdaException;
import io.tributary.api.PolicyStatement;
import io.tributary.api.Runtimes;
import io.tributary.api.Validation;
import io.tributary.cluster.Reply;
import io.tributary.cluster.function.FunctionEntity.Command;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.store.CodeStore;
import io.tributary.cluster.store.FunctionRegistry;
import io.tributary.cluster.store.LayerRegistry;
import io.tributary.http.Operation.Call;
import io.tributary.http.Operation.Limit;
import io.tributary.http.Shapes.Alias;
import io.tributary.http.Shapes.DeadLetterConfig;
import io.tributary.http.Shapes.EphemeralStorage;
import io.tributary.http.Shapes.FunctionConfiguration;
import io.tributary.http.Shapes.LoggingConfig;
import io.tributary.http.Shapes.RoutingConfig;
import io.tributary.http.Shapes.TracingConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lambda control plane for functions: CRUD, code, layers (checked and resolved by
 * {@link LayerRoutes#functionLayers}), versions, aliases, concurrency, resource policies, tags (of
 * functions and, by their ARN, of event source mappings) and account settings, on AWS's paths and
 * with AWS's JSON shapes. Requests are validated here (shape and limits); everything that depends on
 * the function's current state is decided by its {@link FunctionEntity}.
 */
final class FunctionRoutes {

  private static final Logger log = LoggerFactory.getLogger(FunctionRoutes.class);
  private static final List<String> APPLICATION_LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL");
  private static final List<String> SYSTEM_LOG_LEVELS = List.of("DEBUG", "INFO", "WARN");

  /** Settings of the control plane that come from configuration. */
  record Settings(Map<String, Runtimes.Offer> runtimes, int accountConcurrency, int minimumUnreserved,
                  Duration askTimeout) {}

  // ---- request shapes ----

  record CreateFunction(String functionName, String runtime, String role, String handler, Code code,
      String description, Integer timeout, Integer memorySize, Boolean publish, Shapes.Environment environment,
      TracingConfig tracingConfig, @JsonProperty("KMSKeyArn") String kmsKeyArn, Map<String, String> tags,
      List<String> architectures, EphemeralStorage ephemeralStorage, LoggingConfig loggingConfig,
      DeadLetterConfig deadLetterConfig, String packageType, List<String> layers, JsonNode vpcConfig,
      JsonNode fileSystemConfigs, JsonNode imageConfig, JsonNode codeSigningConfigArn, SnapStart snapStart) {}

  /** The deployment package: a zip in base64; the others name stores Tributary does not have. */
  record Code(String zipFile, JsonNode s3Bucket, JsonNode s3Key, JsonNode s3ObjectVersion, JsonNode imageUri,
              @JsonProperty("SourceKMSKeyArn") JsonNode sourceKmsKeyArn) {}

  record SnapStart(String applyOn) {}

  record UpdateFunctionConfiguration(String role, String handler, String description, Integer timeout,
      Integer memorySize, JsonNode vpcConfig, Shapes.Environment environment, String runtime,
      DeadLetterConfig deadLetterConfig, @JsonProperty("KMSKeyArn") String kmsKeyArn, TracingConfig tracingConfig,
      String revisionId, List<String> layers, JsonNode fileSystemConfigs, JsonNode imageConfig,
      EphemeralStorage ephemeralStorage, SnapStart snapStart, LoggingConfig loggingConfig) {}

  record UpdateFunctionCode(String zipFile, JsonNode s3Bucket, JsonNode s3Key, JsonNode s3ObjectVersion,
      JsonNode imageUri, Boolean publish, Boolean dryRun, String revisionId, List<String> architectures,
      @JsonProperty("SourceKMSKeyArn") JsonNode sourceKmsKeyArn) {}

  record PublishVersion(String codeSha256, String description, String revisionId) {}

  record AliasRequest(String name, String functionVersion, String description, RoutingConfig routingConfig,
                      String revisionId) {}

  record AddPermission(String statementId, String action, String principal, String sourceArn, String sourceAccount,
      String eventSourceToken, String revisionId, @JsonProperty("PrincipalOrgID") String principalOrgId,
      String functionUrlAuthType, Boolean invokedViaFunctionUrl) {}

  record PutFunctionConcurrency(Integer reservedConcurrentExecutions) {}

  record TagResource(Map<String, String> tags) {}

  // ---- response shapes ----

  record GetFunction(FunctionConfiguration configuration, CodeLocation code,
                     @JsonInclude(Include.NON_NULL) Map<String, String> tags,
                     @JsonInclude(Include.NON_NULL) Concurrency concurrency) {}

  record CodeLocation(String repositoryType, String location) {}

  record Concurrency(@JsonInclude(Include.NON_NULL) Integer reservedConcurrentExecutions) {}

  record FunctionList(List<FunctionConfiguration> functions, @JsonInclude(Include.NON_NULL) String nextMarker) {}

  record VersionList(List<FunctionConfiguration> versions, @JsonInclude(Include.NON_NULL) String nextMarker) {}

  record AliasList(List<Alias> aliases, @JsonInclude(Include.NON_NULL) String nextMarker) {}

  record AccountSettings(AccountLimit accountLimit, AccountUsage accountUsage) {}

  record AccountLimit(long totalCodeSize, long codeSizeUnzipped, long codeSizeZipped, int concurrentExecutions,
                      int unreservedConcurrentExecutions) {}

  record AccountUsage(long totalCodeSize, int functionCount) {}

  /** AddPermission's answer: the statement as a JSON string, as AWS sends it. */
  record AddedStatement(String statement) {}

  /** GetPolicy's answer: the policy document as a JSON string. */
  record Policy(String policy, String revisionId) {}

  record Tags(Map<String, String> tags) {}

  private final FunctionRegistry registry;
  private final LayerRegistry layers;
  private final CodeStore codeStore;
  private final CodeUrls codeUrls;
  private final Arns arns;
  private final Destination.Resolver destinations;
  private final Shapes shapes;
  private final Settings settings;
  private final FunctionAsk asker;

  FunctionRoutes(ClusterSharding sharding, FunctionRegistry registry, LayerRegistry layers, CodeStore codeStore,
                 CodeUrls codeUrls, Arns arns, Destination.Resolver destinations, Settings settings, Executor executor) {
    this.destinations = destinations;
    this.registry = registry;
    this.layers = layers;
    this.codeStore = codeStore;
    this.codeUrls = codeUrls;
    this.arns = arns;
    this.shapes = new Shapes(arns, settings.runtimes());
    this.settings = settings;
    this.asker = new FunctionAsk(sharding, settings.askTimeout(), executor);
  }

  List<Operation> operations() {
    String functions = "/2015-03-31/functions/";
    String function = "/2015-03-31/functions/{FunctionName}";
    return List.of(
        Operation.post("CreateFunction", functions, this::createFunction).limit(Limit.CODE),
        Operation.get("ListFunctions", functions, call -> listFunctions(call.query())),
        Operation.get("GetFunction", function, call -> getFunction(call.variable(0), call.query())),
        Operation.delete("DeleteFunction", function, call -> deleteFunction(call.variable(0), call.query())),
        Operation.get("GetFunctionConfiguration", function + "/configuration",
            call -> getConfiguration(call.variable(0), call.query())),
        Operation.put("UpdateFunctionConfiguration", function + "/configuration", this::updateConfiguration),
        Operation.put("UpdateFunctionCode", function + "/code", this::updateCode).limit(Limit.CODE),
        Operation.post("PublishVersion", function + "/versions", this::publishVersion),
        Operation.get("ListVersionsByFunction", function + "/versions",
            call -> listVersions(call.variable(0), call.query())),
        Operation.post("CreateAlias", function + "/aliases", this::createAlias),
        Operation.get("ListAliases", function + "/aliases", call -> listAliases(call.variable(0), call.query())),
        Operation.get("GetAlias", function + "/aliases/{Name}", call -> getAlias(call.variable(0), call.variable(1))),
        Operation.put("UpdateAlias", function + "/aliases/{Name}", this::updateAlias),
        Operation.delete("DeleteAlias", function + "/aliases/{Name}",
            call -> deleteAlias(call.variable(0), call.variable(1))),
        Operation.post("AddPermission", function + "/policy", this::addPermission),
        Operation.get("GetPolicy", function + "/policy", call -> getPolicy(call.variable(0), call.query())),
        Operation.delete("RemovePermission", function + "/policy/{StatementId}",
            call -> removePermission(call.variable(0), call.variable(1), call.query())),
        Operation.put("PutFunctionConcurrency", "/2017-10-31/functions/{FunctionName}/concurrency",
            this::putConcurrency),
        Operation.delete("DeleteFunctionConcurrency", "/2017-10-31/functions/{FunctionName}/concurrency",
            call -> deleteConcurrency(call.variable(0))),
        Operation.get("GetFunctionConcurrency", "/2019-09-30/functions/{FunctionName}/concurrency",
            call -> getConcurrency(call.variable(0))),
        Operation.get("ListTags", "/2017-03-31/tags/{ARN}", call -> listTags(call.variable(0))),
        Operation.post("TagResource", "/2017-03-31/tags/{ARN}", this::tagResource),
        Operation.delete("UntagResource", "/2017-03-31/tags/{ARN}",
            call -> untagResource(call.variable(0), call.request().getUri().query().toMultiMap())),
        Operation.get("GetAccountSettings", "/2016-08-19/account-settings/", call -> accountSettings()));
  }

  // ---- functions ----

  private CompletionStage<HttpResponse> createFunction(Call call) {
    CreateFunction b = call.read(CreateFunction.class);
    String name = Validation.functionName(b.functionName());
    refuseUnsupported(b.vpcConfig(), b.fileSystemConfigs(), b.imageConfig(), b.codeSigningConfigArn(), b.snapStart());
    if (b.packageType() != null && !b.packageType().equals("Zip")) {
      throw LambdaException.invalidParameter("PackageType " + b.packageType() + " is not supported by Tributary: "
          + "container images cannot run here. Use PackageType Zip with Code.ZipFile.");
    }
    if (b.runtime() == null || b.handler() == null) {
      throw LambdaException.invalidParameter(
          "Runtime and Handler are mandatory parameters for functions created with deployment packages.");
    }
    Code code = b.code();
    if (code == null) {
      throw LambdaException.invalidParameter("Code is required: give the deployment package as Code.ZipFile (base64).");
    }
    CodePackage zip = zipOf(code.zipFile(), code.s3Bucket(), code.s3Key(), code.s3ObjectVersion(), code.imageUri());
    List<String> architectures = architectures(b.architectures());
    FunctionConfig config = new FunctionConfig(name, FunctionConfig.LATEST, runtime(b.runtime(), name),
        Validation.role(b.role()), Validation.handler(b.handler()), Validation.description(b.description()),
        b.timeout() != null ? Validation.timeout(b.timeout()) : FunctionConfig.DEFAULT_TIMEOUT,
        b.memorySize() != null ? Validation.memorySize(b.memorySize()) : FunctionConfig.DEFAULT_MEMORY_SIZE,
        environment(b.environment()), zip.sha256Base64(), zip.size(), zip.sha256Hex(), zip.unzippedSize(), architectures,
        ephemeralStorage(b.ephemeralStorage()), tracingMode(b.tracingConfig()), b.kmsKeyArn(),
        deadLetterTarget(b.deadLetterConfig()),
        b.loggingConfig() != null ? loggingConfig(b.loggingConfig()).over(FunctionConfig.LoggingConfig.defaults(name))
            : null, null, null, null, null, null);
    Map<String, String> tags = Validation.tags(b.tags(), "A function");
    boolean publish = Boolean.TRUE.equals(b.publish());
    return LayerRoutes.functionLayers(asker, arns, b.layers())
        .thenCompose(layers -> codeStore.store(zip).thenCompose(stored -> this.<FunctionEntity.FunctionView>ask(name,
            r -> new FunctionEntity.Create(layers == null ? config : withLayers(config, layers), tags, publish, r))))
        .thenApply(view -> Responses.json(201, shapes.configuration(view.configuration())));
  }

  private CompletionStage<HttpResponse> getFunction(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<FunctionEntity.FunctionView>ask(ref.name(), r -> new FunctionEntity.Get(ref.qualifier(), r))
        .thenApply(view -> Responses.json(200, new GetFunction(
            shapes.functionConfiguration(view.configuration(), ref.qualifier()),
            new CodeLocation("S3", codeUrls.url(view.configuration().codeSha256Hex())),
            view.tags().isEmpty() ? null : view.tags(),
            view.reservedConcurrency() == null ? null : new Concurrency(view.reservedConcurrency()))));
  }

  private CompletionStage<HttpResponse> getConfiguration(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<FunctionEntity.FunctionView>ask(ref.name(), r -> new FunctionEntity.Get(ref.qualifier(), r))
        .thenApply(view -> Responses.json(200, shapes.functionConfiguration(view.configuration(), ref.qualifier())));
  }

  private CompletionStage<HttpResponse> listFunctions(Map<String, String> query) {
    String version = query.get("FunctionVersion");
    Paging.Request page = Paging.request(query, 10_000);
    if (version != null && !version.equals("ALL")) {
      throw LambdaException.validation(version, "functionVersion", "Member must satisfy enum value set: [ALL]");
    }
    return registry.list(page.after(), page.limit()).thenApply(listed -> {
      List<FunctionConfiguration> functions = new ArrayList<>();
      for (FunctionRegistry.Entry e : listed.entries()) {
        if (version == null) {
          functions.add(shapes.functionConfiguration(e.latest(), null));
        } else {
          functions.add(shapes.functionConfiguration(e.latest(), FunctionConfig.LATEST));
          e.versions().forEach(v -> functions.add(shapes.functionConfiguration(v, v.version())));
        }
      }
      return Responses.json(200, new FunctionList(functions,
          listed.lastName() == null ? null : Paging.marker(listed.lastName())));
    });
  }

  private CompletionStage<HttpResponse> updateCode(Call call) {
    UpdateFunctionCode b = call.read(UpdateFunctionCode.class);
    String name = ref(call.variable(0), null).name();
    CodePackage zip = zipOf(b.zipFile(), b.s3Bucket(), b.s3Key(), b.s3ObjectVersion(), b.imageUri());
    List<String> architectures = architectures(b.architectures());
    boolean publish = Boolean.TRUE.equals(b.publish());
    String revisionId = b.revisionId();
    if (Boolean.TRUE.equals(b.dryRun())) {
      return this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.Get(null, r)).thenApply(view -> {
        Validation.revisionMatches(revisionId, view.configuration().revisionId());
        FunctionConfig c = view.configuration();
        return Responses.json(200, shapes.configuration(c.withCode(zip.sha256Base64(), zip.size(), zip.sha256Hex(), zip.unzippedSize(),
            c.revisionId(), c.lastModified())));
      });
    }
    return codeStore.store(zip)
        .thenCompose(stored -> this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.UpdateCode(
            zip.sha256Base64(), zip.size(), zip.sha256Hex(), zip.unzippedSize(), architectures, publish, revisionId, r)))
        .thenApply(view -> Responses.json(200, shapes.configuration(view.configuration())));
  }

  private CompletionStage<HttpResponse> updateConfiguration(Call call) {
    UpdateFunctionConfiguration b = call.read(UpdateFunctionConfiguration.class);
    String name = ref(call.variable(0), null).name();
    refuseUnsupported(b.vpcConfig(), b.fileSystemConfigs(), b.imageConfig(), null, b.snapStart());
    ConfigurationPatch patch = new ConfigurationPatch(
        b.runtime() != null ? runtime(b.runtime(), name) : null,
        b.role() != null ? Validation.role(b.role()) : null,
        b.handler() != null ? Validation.handler(b.handler()) : null,
        Validation.description(b.description()),
        b.timeout() != null ? Validation.timeout(b.timeout()) : null,
        b.memorySize() != null ? Validation.memorySize(b.memorySize()) : null,
        b.environment() != null ? environment(b.environment()) : null,
        b.ephemeralStorage() != null ? ephemeralStorage(b.ephemeralStorage()) : null,
        b.tracingConfig() != null ? tracingMode(b.tracingConfig()) : null,
        b.kmsKeyArn(),
        deadLetterTarget(b.deadLetterConfig()),
        b.loggingConfig() != null ? loggingConfig(b.loggingConfig()) : null,
        null);
    return LayerRoutes.functionLayers(asker, arns, b.layers())
        .thenCompose(layers -> this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.UpdateConfiguration(
            layers == null ? patch : withLayers(patch, layers), b.revisionId(), r)))
        .thenApply(view -> Responses.json(200, shapes.configuration(view.configuration())));
  }

  private CompletionStage<HttpResponse> deleteFunction(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<Boolean>ask(ref.name(), r -> new FunctionEntity.Delete(ref.qualifier(), r))
        .thenApply(done -> Responses.empty(204));
  }

  // ---- versions ----

  private CompletionStage<HttpResponse> publishVersion(Call call) {
    PublishVersion b = call.read(PublishVersion.class);
    String name = ref(call.variable(0), null).name();
    String description = Validation.description(b.description());
    return this.<FunctionConfig>ask(name, r -> new FunctionEntity.PublishVersion(b.codeSha256(), description,
            b.revisionId(), r))
        .thenApply(version -> Responses.json(201, shapes.functionConfiguration(version, version.version())));
  }

  private CompletionStage<HttpResponse> listVersions(String reference, Map<String, String> query) {
    String name = ref(reference, null).name();
    Paging.Request request = Paging.request(query, 10_000);
    return this.<List<FunctionConfig>>ask(name, FunctionEntity.ListVersions::new).thenApply(all -> {
      Paging.Page<FunctionConfig> page = Paging.page(all, FunctionConfig::version, request);
      return Responses.json(200, new VersionList(
          page.items().stream().map(v -> shapes.functionConfiguration(v, v.version())).toList(), page.nextMarker()));
    });
  }

  // ---- aliases ----

  private CompletionStage<HttpResponse> createAlias(Call call) {
    AliasRequest b = call.read(AliasRequest.class);
    String name = ref(call.variable(0), null).name();
    AliasConfig alias = new AliasConfig(Validation.aliasName(b.name()),
        Validation.version(b.functionVersion(), "functionVersion"), Validation.description(b.description()),
        routingWeights(b.routingConfig()), null);
    return this.<AliasConfig>ask(name, r -> new FunctionEntity.CreateAlias(alias, r))
        .thenApply(a -> Responses.json(201, shapes.alias(name, a)));
  }

  private CompletionStage<HttpResponse> getAlias(String reference, String alias) {
    String name = ref(reference, null).name();
    Validation.aliasName(alias);
    return this.<AliasConfig>ask(name, r -> new FunctionEntity.GetAlias(alias, r))
        .thenApply(a -> Responses.json(200, shapes.alias(name, a)));
  }

  private CompletionStage<HttpResponse> updateAlias(Call call) {
    AliasRequest b = call.read(AliasRequest.class);
    String name = ref(call.variable(0), null).name();
    String alias = call.variable(1);
    Validation.aliasName(alias);
    String version = b.functionVersion() != null ? Validation.version(b.functionVersion(), "functionVersion") : null;
    Map<String, Double> weights = b.routingConfig() != null ? routingWeights(b.routingConfig()) : null;
    return this.<AliasConfig>ask(name, r -> new FunctionEntity.UpdateAlias(alias, version,
            Validation.description(b.description()), weights, b.revisionId(), r))
        .thenApply(a -> Responses.json(200, shapes.alias(name, a)));
  }

  private CompletionStage<HttpResponse> deleteAlias(String reference, String alias) {
    String name = ref(reference, null).name();
    Validation.aliasName(alias);
    return this.<Boolean>ask(name, r -> new FunctionEntity.DeleteAlias(alias, r)).thenApply(done -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> listAliases(String reference, Map<String, String> query) {
    String name = ref(reference, null).name();
    String version = query.get("FunctionVersion");
    if (version != null) {
      Validation.version(version, "functionVersion");
    }
    Paging.Request request = Paging.request(query, 10_000);
    return this.<List<AliasConfig>>ask(name, r -> new FunctionEntity.ListAliases(version, r)).thenApply(all -> {
      Paging.Page<AliasConfig> page = Paging.page(all, AliasConfig::name, request);
      return Responses.json(200, new AliasList(page.items().stream().map(a -> shapes.alias(name, a)).toList(),
          page.nextMarker()));
    });
  }

  // ---- concurrency and account ----

  private CompletionStage<HttpResponse> putConcurrency(Call call) {
    PutFunctionConcurrency b = call.read(PutFunctionConcurrency.class);
    String name = ref(call.variable(0), null).name();
    Integer n = b.reservedConcurrentExecutions();
    if (n == null) {
      throw LambdaException.validation(null, "reservedConcurrentExecutions", "Member must not be null");
    }
    if (n < 0) {
      throw LambdaException.validation(n, "reservedConcurrentExecutions", "Member must have value greater than or equal to 0");
    }
    return registry.all().thenCompose(entries -> {
      int reservedByOthers = entries.stream()
          .filter(e -> !e.latest().functionName().equals(name) && e.reservedConcurrency() != null)
          .mapToInt(FunctionRegistry.Entry::reservedConcurrency).sum();
      if (settings.accountConcurrency() - reservedByOthers - n < settings.minimumUnreserved()) {
        throw LambdaException.invalidParameter("Specified ReservedConcurrentExecutions for function decreases account's "
            + "UnreservedConcurrentExecution below its minimum value of [" + settings.minimumUnreserved() + "].");
      }
      return this.<Integer>ask(name, r -> new FunctionEntity.PutConcurrency(n, r));
    }).thenApply(v -> Responses.json(200, new Concurrency(v)));
  }

  private CompletionStage<HttpResponse> getConcurrency(String reference) {
    String name = ref(reference, null).name();
    return this.<Integer>ask(name, FunctionEntity.GetConcurrency::new)
        .thenApply(v -> Responses.json(200, new Concurrency(v)));
  }

  private CompletionStage<HttpResponse> deleteConcurrency(String reference) {
    String name = ref(reference, null).name();
    return this.<Boolean>ask(name, FunctionEntity.DeleteConcurrency::new).thenApply(done -> Responses.empty(204));
  }

  /** TotalCodeSize counts every function version's zip and every layer version's, as AWS counts them. */
  private CompletionStage<HttpResponse> accountSettings() {
    return registry.all().thenCombine(layers.codeSize(), (entries, layerCode) -> {
      int reserved = entries.stream().filter(e -> e.reservedConcurrency() != null)
          .mapToInt(FunctionRegistry.Entry::reservedConcurrency).sum();
      long totalCode = layerCode + entries.stream().mapToLong(e -> e.latest().codeSize()
          + e.versions().stream().mapToLong(FunctionConfig::codeSize).sum()).sum();
      return Responses.json(200, new AccountSettings(
          new AccountLimit(80_530_636_800L, CodePackage.MAX_UNZIPPED_BYTES, CodePackage.MAX_ZIPPED_BYTES,
              settings.accountConcurrency(), settings.accountConcurrency() - reserved),
          new AccountUsage(totalCode, entries.size())));
    });
  }

  // ---- policy ----

  private CompletionStage<HttpResponse> addPermission(Call call) {
    AddPermission b = call.read(AddPermission.class);
    Arns.FunctionRef ref = ref(call.variable(0), call.query().get("Qualifier"));
    String action = required(b.action(), "Action");
    if (!action.matches("(lambda:[*]|lambda:[a-zA-Z]+|[*])")) {
      throw LambdaException.validation(action, "action",
          "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])");
    }
    String principal = required(b.principal(), "Principal");
    if (!principal.matches("[^\\s]+")) {
      throw LambdaException.validation(principal, "principal", "Member must satisfy regular expression pattern: [^\\s]+");
    }
    String authType = b.functionUrlAuthType();
    if (authType != null && !authType.equals("NONE") && !authType.equals("AWS_IAM")) {
      throw LambdaException.validation(authType, "functionUrlAuthType",
          "Member must satisfy enum value set: [NONE, AWS_IAM]");
    }
    // AWS's answers when a condition is asked for an action it does not qualify.
    if (authType != null && !action.equals("lambda:InvokeFunctionUrl")) {
      throw LambdaException.invalidParameter(
          "FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl action");
    }
    if (b.invokedViaFunctionUrl() != null && !action.equals("lambda:InvokeFunction")) {
      throw LambdaException.invalidParameter(
          "InvokedViaFunctionUrl is only supported for lambda:InvokeFunction action");
    }
    PolicyStatement statement = new PolicyStatement(Validation.statementId(b.statementId()), ref.qualifier(),
        action, principal, arns.functionArn(ref.name(), ref.qualifier()), b.sourceArn(), b.sourceAccount(),
        b.eventSourceToken(), b.principalOrgId(), authType, Boolean.TRUE.equals(b.invokedViaFunctionUrl()));
    return this.<PolicyStatement>ask(ref.name(), r -> new FunctionEntity.AddPermission(statement, b.revisionId(), r))
        .thenApply(s -> Responses.json(201, new AddedStatement(Responses.text(shapes.statement(s)))));
  }

  private CompletionStage<HttpResponse> removePermission(String reference, String sid, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    Validation.statementId(sid);
    return this.<Boolean>ask(ref.name(), r -> new FunctionEntity.RemovePermission(ref.qualifier(), sid,
        query.get("RevisionId"), r)).thenApply(done -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> getPolicy(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<FunctionEntity.Policy>ask(ref.name(), r -> new FunctionEntity.GetPolicy(ref.qualifier(), r))
        .thenApply(p -> Responses.json(200, new Policy(Responses.text(shapes.policyDocument(p.statements())),
            p.revisionId())));
  }

  // ---- tags ----

  /*
   * One set of tag operations for every ARN AWS tags: by the ARN's kind, a function's tags are its
   * FunctionEntity's, a mapping's its EventSourceMappingEntity's; a kind this node holds none of is
   * not found.
   */

  private CompletionStage<HttpResponse> listTags(String arn) {
    return askTags(arns.parseTaggable(arn), FunctionEntity.ListTags::new, EventSourceMappingEntity.ListTags::new)
        .thenApply(tags -> Responses.json(200, new Tags(tags)));
  }

  private CompletionStage<HttpResponse> tagResource(Call call) {
    TagResource b = call.read(TagResource.class);
    Arns.Taggable resource = arns.parseTaggable(call.variable(0));
    Map<String, String> tags = Validation.tags(b.tags(), resource instanceof Arns.Taggable.Mapping
        ? "An event source mapping" : "A function");
    if (tags.isEmpty()) {
      throw LambdaException.invalidParameter("Tags must name at least one tag.");
    }
    return askTags(resource, r -> new FunctionEntity.TagResource(tags, r),
        r -> new EventSourceMappingEntity.TagResource(tags, r)).thenApply(t -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> untagResource(String arn, Map<String, List<String>> query) {
    Arns.Taggable resource = arns.parseTaggable(arn);
    List<String> keys = query.getOrDefault("tagKeys", List.of());
    if (keys.isEmpty()) {
      throw LambdaException.invalidParameter("tagKeys must name at least one tag key.");
    }
    return askTags(resource, r -> new FunctionEntity.UntagResource(keys, r),
        r -> new EventSourceMappingEntity.UntagResource(keys, r)).thenApply(t -> Responses.empty(204));
  }

  private CompletionStage<Map<String, String>> askTags(Arns.Taggable resource,
      Function<ActorRef<Reply<Map<String, String>>>, Command> ofFunction,
      Function<ActorRef<Reply<Map<String, String>>>, EventSourceMappingEntity.Command> ofMapping) {
    if (resource instanceof Arns.Taggable.Function f) {
      return ask(f.name(), ofFunction);
    }
    if (resource instanceof Arns.Taggable.Mapping m && EventSourceMappingRoutes.isUuid(m.uuid())) {
      return asker.ask(EventSourceMappingEntity.TYPE_KEY, m.uuid(), "Event source mapping " + m.uuid(), ofMapping);
    }
    String what = resource instanceof Arns.Taggable.Mapping m ? "Event source mapping " + m.uuid()
        : ((Arns.Taggable.Unheld) resource).arn();
    return CompletableFuture.failedFuture(LambdaException.notFound("The resource you requested does not exist. ("
        + what + ")"));
  }

  // ---- helpers ----

  private <T> CompletionStage<T> ask(String functionName, Function<ActorRef<Reply<T>>, Command> command) {
    return asker.ask(functionName, command);
  }

  private Arns.FunctionRef ref(String reference, String queryQualifier) {
    return ref(arns, reference, queryQualifier);
  }

  /** The function a path names, with the qualifier of its ARN or of {@code ?Qualifier=} (which must agree). */
  static Arns.FunctionRef ref(Arns arns, String reference, String queryQualifier) {
    Arns.FunctionRef ref = arns.parseFunction(reference);
    Validation.qualifier(queryQualifier);
    if (queryQualifier != null && ref.qualifier() != null && !queryQualifier.equals(ref.qualifier())) {
      throw LambdaException.invalidParameter("The derived qualifier from the function name does not match the "
          + "specified qualifier.");
    }
    String qualifier = queryQualifier != null ? queryQualifier : ref.qualifier();
    return new Arns.FunctionRef(ref.name(), qualifier == null || qualifier.isEmpty() ? null : qualifier);
  }

  private static String required(String value, String member) {
    if (value == null) {
      throw LambdaException.invalidParameter(member + " is required.");
    }
    return value;
  }

  /** The zip of {@code Code} or of UpdateFunctionCode; the other sources name stores Tributary does not have. */
  private static CodePackage zipOf(String zipFile, JsonNode s3Bucket, JsonNode s3Key, JsonNode s3ObjectVersion,
                                   JsonNode imageUri) {
    Map<String, JsonNode> unsupported = new LinkedHashMap<>();
    unsupported.put("S3Bucket", s3Bucket);
    unsupported.put("S3Key", s3Key);
    unsupported.put("S3ObjectVersion", s3ObjectVersion);
    unsupported.put("ImageUri", imageUri);
    unsupported.forEach((member, value) -> {
      if (JsonBody.given(value)) {
        throw LambdaException.invalidParameter(member + " is not supported by Tributary: there is no object "
            + "store or image registry here. Upload the deployment package as ZipFile (base64).");
      }
    });
    if (zipFile == null) {
      throw LambdaException.invalidParameter("ZipFile is required: the deployment package as a base64 zip.");
    }
    return CodePackage.fromZip(CodePackage.decodeBase64(zipFile));
  }

  private static void refuseUnsupported(JsonNode vpcConfig, JsonNode fileSystemConfigs, JsonNode imageConfig,
                                        JsonNode codeSigningConfigArn, SnapStart snapStart) {
    JsonBody.refuseUnlessEmpty(vpcConfig, "VpcConfig", "functions run on the node's own network; remove VpcConfig.");
    JsonBody.refuseUnlessEmpty(fileSystemConfigs, "FileSystemConfigs", "there is no EFS here; remove FileSystemConfigs.");
    JsonBody.refuseUnlessEmpty(imageConfig, "ImageConfig", "container images cannot run here; remove ImageConfig.");
    String signing = JsonBody.given(codeSigningConfigArn)
        ? (codeSigningConfigArn.isTextual() ? codeSigningConfigArn.asText() : codeSigningConfigArn.toString()) : "";
    if (!signing.isEmpty()) {
      throw CodeSigning.attachRefused(CodeSigning.arn(signing));
    }
    if (snapStart != null && snapStart.applyOn() != null && !"None".equals(snapStart.applyOn())) {
      throw LambdaException.invalidParameter("SnapStart.ApplyOn " + snapStart.applyOn()
          + " is not supported by Tributary; use None or remove SnapStart.");
    }
  }

  /** {@code config} using {@code layers} (resolved by {@link LayerRoutes#functionLayers}) instead of its own. */
  private static FunctionConfig withLayers(FunctionConfig config, List<FunctionConfig.Layer> layers) {
    return new ConfigurationPatch(null, null, null, null, null, null, null, null, null, null, null, null, layers)
        .applyTo(config, config.revisionId(), config.lastModified());
  }

  /** {@code patch} that also sets the function's layers ({@code []}: none). */
  private static ConfigurationPatch withLayers(ConfigurationPatch p, List<FunctionConfig.Layer> layers) {
    return new ConfigurationPatch(p.runtime(), p.role(), p.handler(), p.description(), p.timeout(), p.memorySize(),
        p.environment(), p.ephemeralStorageSize(), p.tracingMode(), p.kmsKeyArn(), p.deadLetterTargetArn(),
        p.loggingConfig(), layers);
  }

  /** A runtime this node offers; one that runs on another release than its own is accepted with a warning. */
  private String runtime(String runtime, String functionName) {
    Runtimes.Offer offer = Runtimes.check(runtime, settings.runtimes());
    if (!offer.exact()) {
      log.warn("Function {} uses {}, which this node runs on {}: no interpreter of that release is installed "
          + "(tributary.runtime.interpreters)", functionName, runtime, offer.runtimeVersion());
    }
    return runtime;
  }

  private static List<String> architectures(List<String> architectures) {
    if (architectures == null) {
      return null;
    }
    if (architectures.size() != 1 || !Set.of("x86_64", "arm64").contains(architectures.get(0))) {
      throw LambdaException.validation(architectures, "architectures",
          "Member must have length less than or equal to 1 and contain one of [x86_64, arm64]");
    }
    return architectures;
  }

  private static Map<String, String> environment(Shapes.Environment environment) {
    if (environment == null || environment.variables() == null) {
      return Map.of();
    }
    return Validation.environment(environment.variables());
  }

  private static int ephemeralStorage(EphemeralStorage storage) {
    if (storage == null || storage.size() == null) {
      return FunctionConfig.DEFAULT_EPHEMERAL_STORAGE;
    }
    return Validation.ephemeralStorage(storage.size());
  }

  private static String tracingMode(TracingConfig tracing) {
    String mode = tracing == null ? null : tracing.mode();
    if (mode != null && !Set.of("Active", "PassThrough").contains(mode)) {
      throw LambdaException.validation(mode, "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]");
    }
    return mode;
  }

  /** In an update, {@code DeadLetterConfig: {}} removes the dead-letter queue, as in AWS. */
  private String deadLetterTarget(DeadLetterConfig dlq) {
    if (dlq == null) {
      return null;
    }
    return Validation.deadLetterTarget(dlq.targetArn() == null ? "" : dlq.targetArn(), destinations);
  }

  /** The request's LoggingConfig, checked member by member as AWS's model does; absent members stay null. */
  private static FunctionConfig.LoggingConfig loggingConfig(LoggingConfig logging) {
    String format = logging.logFormat();
    if (format != null && !Set.of("Text", "JSON").contains(format)) {
      throw LambdaException.validation(format, "loggingConfig.logFormat", "Member must satisfy enum value set: [JSON, Text]");
    }
    String application = logging.applicationLogLevel();
    if (application != null && !APPLICATION_LOG_LEVELS.contains(application)) {
      throw LambdaException.validation(application, "loggingConfig.applicationLogLevel",
          "Member must satisfy enum value set: " + APPLICATION_LOG_LEVELS);
    }
    String system = logging.systemLogLevel();
    if (system != null && !SYSTEM_LOG_LEVELS.contains(system)) {
      throw LambdaException.validation(system, "loggingConfig.systemLogLevel",
          "Member must satisfy enum value set: " + SYSTEM_LOG_LEVELS);
    }
    String group = logging.logGroup();
    if (group != null && (group.isEmpty() || group.length() > 512)) {
      throw LambdaException.validation(group, "loggingConfig.logGroup",
          "Member must have length between 1 and 512");
    }
    if (group != null && !group.matches("[\\.\\-_/#A-Za-z0-9]+")) {
      throw LambdaException.validation(group, "loggingConfig.logGroup",
          "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
    }
    return new FunctionConfig.LoggingConfig(format, application, system, group);
  }

  private static Map<String, Double> routingWeights(RoutingConfig routing) {
    if (routing == null || routing.additionalVersionWeights() == null) {
      return Map.of();
    }
    Map<String, Double> weights = routing.additionalVersionWeights();
    weights.forEach((version, weight) -> {
      if (!version.matches("[0-9]+")) {
        throw LambdaException.validation(version, "routingConfig.additionalVersionWeights",
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]");
      }
      if (weight < 0.0 || weight > 1.0) {
        throw LambdaException.validation(weight, "routingConfig.additionalVersionWeights",
            "Map value must satisfy constraint: [Member must have value between 0.0 and 1.0]");
      }
    });
    return weights;
  }
}
