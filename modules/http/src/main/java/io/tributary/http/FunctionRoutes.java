package io.tributary.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.AliasConfig;
import io.tributary.api.Arns;
import io.tributary.api.CodePackage;
import io.tributary.api.ConfigurationPatch;
import io.tributary.api.Destination;
import io.tributary.api.FunctionConfig;
import io.tributary.api.LambdaException;
import io.tributary.api.PolicyStatement;
import io.tributary.api.Validation;
import io.tributary.cluster.Reply;
import io.tributary.cluster.function.FunctionEntity.Command;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.store.CodeStore;
import io.tributary.cluster.store.FunctionRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The Lambda control plane for functions: CRUD, code, versions, aliases, concurrency, resource
 * policies, tags and account settings, on AWS's paths and with AWS's JSON shapes. Requests are
 * validated here (shape and limits); everything that depends on the function's current state is
 * decided by its {@link FunctionEntity}.
 */
final class FunctionRoutes extends AllDirectives {

  /** Settings of the control plane that come from configuration. */
  record Settings(Set<String> runtimes, int accountConcurrency, int minimumUnreserved, Duration askTimeout) {}

  private static final Set<String> CREATE_FIELDS = Set.of("FunctionName", "Runtime", "Role", "Handler", "Code",
      "Description", "Timeout", "MemorySize", "Publish", "Environment", "TracingConfig", "KMSKeyArn", "Tags",
      "Architectures", "EphemeralStorage", "LoggingConfig", "DeadLetterConfig", "PackageType", "Layers", "VpcConfig",
      "FileSystemConfigs", "ImageConfig", "CodeSigningConfigArn", "SnapStart");
  private static final Set<String> UPDATE_CONFIG_FIELDS = Set.of("Role", "Handler", "Description", "Timeout",
      "MemorySize", "VpcConfig", "Environment", "Runtime", "DeadLetterConfig", "KMSKeyArn", "TracingConfig",
      "RevisionId", "Layers", "FileSystemConfigs", "ImageConfig", "EphemeralStorage", "SnapStart", "LoggingConfig");
  private static final Set<String> CODE_FIELDS = Set.of("ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri",
      "SourceKMSKeyArn");
  private static final Set<String> UPDATE_CODE_FIELDS = Set.of("ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion",
      "ImageUri", "Publish", "DryRun", "RevisionId", "Architectures", "SourceKMSKeyArn");
  private static final Set<String> ALIAS_FIELDS = Set.of("Name", "FunctionVersion", "Description", "RoutingConfig",
      "RevisionId");
  private static final Set<String> PERMISSION_FIELDS = Set.of("StatementId", "Action", "Principal", "SourceArn",
      "SourceAccount", "EventSourceToken", "RevisionId", "PrincipalOrgID", "FunctionUrlAuthType", "InvokedViaFunctionUrl");
  private static final int PAGE_LIMIT = 50;

  private final ClusterSharding sharding;
  private final FunctionRegistry registry;
  private final CodeStore codeStore;
  private final CodeUrls codeUrls;
  private final Arns arns;
  private final Destination.Resolver destinations;
  private final Shapes shapes;
  private final Settings settings;
  private final Executor executor;
  private final FunctionAsk asker;

  FunctionRoutes(ClusterSharding sharding, FunctionRegistry registry, CodeStore codeStore, CodeUrls codeUrls, Arns arns,
                 Destination.Resolver destinations, Settings settings, Executor executor) {
    this.sharding = sharding;
    this.destinations = destinations;
    this.executor = executor;
    this.registry = registry;
    this.codeStore = codeStore;
    this.codeUrls = codeUrls;
    this.arns = arns;
    this.shapes = new Shapes(arns);
    this.settings = settings;
    this.asker = new FunctionAsk(sharding, settings.askTimeout(), executor);
  }

  Route route() {
    return concat(
        pathPrefix(segment("2015-03-31").slash("functions"), () -> concat(
            pathEndOrSingleSlash(this::functionsCollection),
            pathPrefix(segment(), this::function))),
        path(segment("2017-10-31").slash("functions").slash(segment()).slash("concurrency"), fn -> concat(
            put(() -> operation(b -> putConcurrency(fn, b))),
            delete(() -> completeWithFuture(deleteConcurrency(fn))))),
        path(segment("2019-09-30").slash("functions").slash(segment()).slash("concurrency"),
            fn -> get(() -> completeWithFuture(getConcurrency(fn)))),
        path(segment("2017-03-31").slash("tags").slash(segment()), this::tags),
        pathPrefix(segment("2016-08-19").slash("account-settings"),
            () -> pathEndOrSingleSlash(() -> get(() -> completeWithFuture(accountSettings())))));
  }

  private Route functionsCollection() {
    return concat(
        post(() -> operation(this::createFunction)),
        get(() -> parameterMap(q -> completeWithFuture(listFunctions(q)))));
  }

  private Route function(String fn) {
    return concat(
        pathEnd(() -> concat(
            get(() -> parameterMap(q -> completeWithFuture(getFunction(fn, q)))),
            delete(() -> parameterMap(q -> completeWithFuture(deleteFunction(fn, q)))))),
        path("configuration", () -> concat(
            get(() -> parameterMap(q -> completeWithFuture(getConfiguration(fn, q)))),
            put(() -> operation(b -> updateConfiguration(fn, b))))),
        path("code", () -> put(() -> operation(b -> updateCode(fn, b)))),
        path("versions", () -> concat(
            post(() -> operation(b -> publishVersion(fn, b))),
            get(() -> parameterMap(q -> completeWithFuture(listVersions(fn, q)))))),
        pathPrefix("aliases", () -> aliases(fn)),
        pathPrefix("policy", () -> policy(fn)));
  }

  private Route aliases(String fn) {
    return concat(
        pathEnd(() -> concat(
            post(() -> operation(b -> createAlias(fn, b))),
            get(() -> parameterMap(q -> completeWithFuture(listAliases(fn, q)))))),
        path(segment(), alias -> concat(
            get(() -> completeWithFuture(getAlias(fn, alias))),
            put(() -> operation(b -> updateAlias(fn, alias, b))),
            delete(() -> completeWithFuture(deleteAlias(fn, alias))))));
  }

  private Route policy(String fn) {
    return concat(
        pathEnd(() -> concat(
            post(() -> parameterMap(q -> operation(b -> addPermission(fn, q, b)))),
            get(() -> parameterMap(q -> completeWithFuture(getPolicy(fn, q)))))),
        path(segment(), sid -> delete(() -> parameterMap(q -> completeWithFuture(removePermission(fn, sid, q))))));
  }

  private Route tags(String arn) {
    return concat(
        get(() -> completeWithFuture(listTags(arn))),
        post(() -> operation(b -> tagResource(arn, b))),
        delete(() -> parameterMultiMap(q -> completeWithFuture(untagResource(arn, q)))));
  }

  private Route operation(Function<byte[], CompletionStage<HttpResponse>> handler) {
    return entity(Unmarshaller.entityToByteString(), body -> completeWithFuture(
        CompletableFuture.completedFuture(body.toArray()).thenCompose(handler)));
  }

  // ---- functions ----

  private CompletionStage<HttpResponse> createFunction(byte[] body) {
    JsonBody b = JsonBody.parse(body, CREATE_FIELDS);
    String name = Validation.functionName(b.string("FunctionName"));
    refuseUnsupported(b);
    String packageType = b.string("PackageType");
    if (packageType != null && !packageType.equals("Zip")) {
      throw LambdaException.invalidParameter("PackageType " + packageType + " is not supported by Tributary: "
          + "container images cannot run here. Use PackageType Zip with Code.ZipFile.");
    }
    String runtime = b.string("Runtime");
    String handler = b.string("Handler");
    if (runtime == null || handler == null) {
      throw LambdaException.invalidParameter(
          "Runtime and Handler are mandatory parameters for functions created with deployment packages.");
    }
    JsonBody code = b.object("Code", CODE_FIELDS);
    if (code == null) {
      throw LambdaException.invalidParameter("Code is required: give the deployment package as Code.ZipFile (base64).");
    }
    CodePackage zip = zipOf(code);
    List<String> architectures = architectures(b.stringList("Architectures"));
    FunctionConfig config = new FunctionConfig(name, FunctionConfig.LATEST, runtime(runtime), Validation.role(b.string("Role")),
        Validation.handler(handler), Validation.description(b.string("Description")),
        b.has("Timeout") ? Validation.timeout(b.integer("Timeout")) : FunctionConfig.DEFAULT_TIMEOUT,
        b.has("MemorySize") ? Validation.memorySize(b.integer("MemorySize")) : FunctionConfig.DEFAULT_MEMORY_SIZE,
        environment(b), zip.sha256Base64(), zip.size(), zip.sha256Hex(), architectures, ephemeralStorage(b),
        tracingMode(b), b.string("KMSKeyArn"), deadLetterTarget(b), loggingConfig(b, name), null, null, null, null);
    Map<String, String> tags = tags(b.stringMap("Tags"));
    boolean publish = Boolean.TRUE.equals(b.bool("Publish"));
    return codeStore.store(zip)
        .thenCompose(stored -> this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.Create(config, tags, publish, r)))
        .thenApply(view -> Responses.json(201, configuration(view.configuration())));
  }

  private CompletionStage<HttpResponse> getFunction(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<FunctionEntity.FunctionView>ask(ref.name(), r -> new FunctionEntity.Get(ref.qualifier(), r))
        .thenApply(view -> {
          ObjectNode o = JsonBody.MAPPER.createObjectNode();
          o.set("Configuration", shapes.functionConfiguration(view.configuration(), ref.qualifier()));
          ObjectNode code = o.putObject("Code");
          code.put("RepositoryType", "S3");
          code.put("Location", codeUrls.url(view.configuration().codeSha256Hex()));
          if (!view.tags().isEmpty()) {
            o.set("Tags", Shapes.tags(view.tags()));
          }
          if (view.reservedConcurrency() != null) {
            o.putObject("Concurrency").put("ReservedConcurrentExecutions", view.reservedConcurrency());
          }
          return Responses.json(200, o);
        });
  }

  private CompletionStage<HttpResponse> getConfiguration(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<FunctionEntity.FunctionView>ask(ref.name(), r -> new FunctionEntity.Get(ref.qualifier(), r))
        .thenApply(view -> Responses.json(200, shapes.functionConfiguration(view.configuration(), ref.qualifier())));
  }

  private CompletionStage<HttpResponse> listFunctions(Map<String, String> query) {
    int limit = maxItems(query);
    String version = query.get("FunctionVersion");
    if (version != null && !version.equals("ALL")) {
      throw LambdaException.validation(version, "functionVersion", "Member must satisfy enum value set: [ALL]");
    }
    String after = decodeMarker(query.get("Marker"));
    return registry.list(after, limit).thenApply(page -> {
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      ArrayNode functions = o.putArray("Functions");
      for (FunctionRegistry.Entry e : page.entries()) {
        if (version == null) {
          functions.add(shapes.functionConfiguration(e.latest(), null));
        } else {
          functions.add(shapes.functionConfiguration(e.latest(), FunctionConfig.LATEST));
          e.versions().forEach(v -> functions.add(shapes.functionConfiguration(v, v.version())));
        }
      }
      if (page.lastName() != null) {
        o.put("NextMarker", encodeMarker(page.lastName()));
      }
      return Responses.json(200, o);
    });
  }

  private CompletionStage<HttpResponse> updateCode(String reference, byte[] body) {
    JsonBody b = JsonBody.parse(body, UPDATE_CODE_FIELDS);
    String name = ref(reference, null).name();
    CodePackage zip = zipOf(b);
    List<String> architectures = b.has("Architectures") ? architectures(b.stringList("Architectures")) : null;
    boolean publish = Boolean.TRUE.equals(b.bool("Publish"));
    String revisionId = b.string("RevisionId");
    if (Boolean.TRUE.equals(b.bool("DryRun"))) {
      return this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.Get(null, r)).thenApply(view -> {
        Validation.revisionMatches(revisionId, view.configuration().revisionId());
        FunctionConfig c = view.configuration();
        return Responses.json(200, configuration(c.withCode(zip.sha256Base64(), zip.size(), zip.sha256Hex(),
            c.revisionId(), c.lastModified())));
      });
    }
    return codeStore.store(zip)
        .thenCompose(stored -> this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.UpdateCode(
            zip.sha256Base64(), zip.size(), zip.sha256Hex(), architectures, publish, revisionId, r)))
        .thenApply(view -> Responses.json(200, configuration(view.configuration())));
  }

  private CompletionStage<HttpResponse> updateConfiguration(String reference, byte[] body) {
    JsonBody b = JsonBody.parse(body, UPDATE_CONFIG_FIELDS);
    String name = ref(reference, null).name();
    refuseUnsupported(b);
    ConfigurationPatch patch = new ConfigurationPatch(
        b.has("Runtime") ? runtime(b.string("Runtime")) : null,
        b.has("Role") ? Validation.role(b.string("Role")) : null,
        b.has("Handler") ? Validation.handler(b.string("Handler")) : null,
        Validation.description(b.string("Description")),
        b.has("Timeout") ? Validation.timeout(b.integer("Timeout")) : null,
        b.has("MemorySize") ? Validation.memorySize(b.integer("MemorySize")) : null,
        b.has("Environment") ? environment(b) : null,
        b.has("EphemeralStorage") ? ephemeralStorage(b) : null,
        b.has("TracingConfig") ? tracingMode(b) : null,
        b.string("KMSKeyArn"),
        deadLetterTarget(b),
        b.has("LoggingConfig") ? loggingConfig(b, name) : null);
    String revisionId = b.string("RevisionId");
    return this.<FunctionEntity.FunctionView>ask(name, r -> new FunctionEntity.UpdateConfiguration(patch, revisionId, r))
        .thenApply(view -> Responses.json(200, configuration(view.configuration())));
  }

  private CompletionStage<HttpResponse> deleteFunction(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    return this.<Boolean>ask(ref.name(), r -> new FunctionEntity.Delete(ref.qualifier(), r))
        .thenApply(done -> Responses.empty(204));
  }

  // ---- versions ----

  private CompletionStage<HttpResponse> publishVersion(String reference, byte[] body) {
    JsonBody b = JsonBody.parse(body, Set.of("CodeSha256", "Description", "RevisionId"));
    String name = ref(reference, null).name();
    String description = Validation.description(b.string("Description"));
    return this.<FunctionConfig>ask(name, r -> new FunctionEntity.PublishVersion(b.string("CodeSha256"), description,
            b.string("RevisionId"), r))
        .thenApply(version -> Responses.json(201, shapes.functionConfiguration(version, version.version())));
  }

  private CompletionStage<HttpResponse> listVersions(String reference, Map<String, String> query) {
    String name = ref(reference, null).name();
    int limit = maxItems(query);
    String after = decodeMarker(query.get("Marker"));
    return this.<List<FunctionConfig>>ask(name, FunctionEntity.ListVersions::new).thenApply(all -> {
      List<FunctionConfig> page = page(all, FunctionConfig::version, after, limit);
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      ArrayNode versions = o.putArray("Versions");
      page.forEach(v -> versions.add(shapes.functionConfiguration(v, v.version())));
      if (page.size() == limit && !page.get(page.size() - 1).equals(all.get(all.size() - 1))) {
        o.put("NextMarker", encodeMarker(page.get(page.size() - 1).version()));
      }
      return Responses.json(200, o);
    });
  }

  // ---- aliases ----

  private CompletionStage<HttpResponse> createAlias(String reference, byte[] body) {
    JsonBody b = JsonBody.parse(body, ALIAS_FIELDS);
    String name = ref(reference, null).name();
    AliasConfig alias = new AliasConfig(Validation.aliasName(b.string("Name")),
        Validation.version(b.string("FunctionVersion"), "functionVersion"), Validation.description(b.string("Description")),
        routingWeights(b), null);
    return this.<AliasConfig>ask(name, r -> new FunctionEntity.CreateAlias(alias, r))
        .thenApply(a -> Responses.json(201, shapes.alias(name, a)));
  }

  private CompletionStage<HttpResponse> getAlias(String reference, String alias) {
    String name = ref(reference, null).name();
    Validation.aliasName(alias);
    return this.<AliasConfig>ask(name, r -> new FunctionEntity.GetAlias(alias, r))
        .thenApply(a -> Responses.json(200, shapes.alias(name, a)));
  }

  private CompletionStage<HttpResponse> updateAlias(String reference, String alias, byte[] body) {
    JsonBody b = JsonBody.parse(body, ALIAS_FIELDS);
    String name = ref(reference, null).name();
    Validation.aliasName(alias);
    String version = b.has("FunctionVersion") ? Validation.version(b.string("FunctionVersion"), "functionVersion") : null;
    Map<String, Double> weights = b.has("RoutingConfig") ? routingWeights(b) : null;
    return this.<AliasConfig>ask(name, r -> new FunctionEntity.UpdateAlias(alias, version,
            Validation.description(b.string("Description")), weights, b.string("RevisionId"), r))
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
    int limit = maxItems(query);
    String after = decodeMarker(query.get("Marker"));
    return this.<List<AliasConfig>>ask(name, r -> new FunctionEntity.ListAliases(version, r)).thenApply(all -> {
      List<AliasConfig> page = page(all, AliasConfig::name, after, limit);
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      ArrayNode aliases = o.putArray("Aliases");
      page.forEach(a -> aliases.add(shapes.alias(name, a)));
      if (page.size() == limit && !page.get(page.size() - 1).equals(all.get(all.size() - 1))) {
        o.put("NextMarker", encodeMarker(page.get(page.size() - 1).name()));
      }
      return Responses.json(200, o);
    });
  }

  // ---- concurrency and account ----

  private CompletionStage<HttpResponse> putConcurrency(String reference, byte[] body) {
    JsonBody b = JsonBody.parse(body, Set.of("ReservedConcurrentExecutions"));
    String name = ref(reference, null).name();
    Integer n = b.integer("ReservedConcurrentExecutions");
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
    }).thenApply(v -> Responses.json(200, JsonBody.MAPPER.createObjectNode().put("ReservedConcurrentExecutions", v)));
  }

  private CompletionStage<HttpResponse> getConcurrency(String reference) {
    String name = ref(reference, null).name();
    return this.<Integer>ask(name, FunctionEntity.GetConcurrency::new).thenApply(v -> {
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      if (v != null) {
        o.put("ReservedConcurrentExecutions", v);
      }
      return Responses.json(200, o);
    });
  }

  private CompletionStage<HttpResponse> deleteConcurrency(String reference) {
    String name = ref(reference, null).name();
    return this.<Boolean>ask(name, FunctionEntity.DeleteConcurrency::new).thenApply(done -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> accountSettings() {
    return registry.all().thenApply(entries -> {
      int reserved = entries.stream().filter(e -> e.reservedConcurrency() != null)
          .mapToInt(FunctionRegistry.Entry::reservedConcurrency).sum();
      long totalCode = entries.stream().mapToLong(e -> e.latest().codeSize()
          + e.versions().stream().mapToLong(FunctionConfig::codeSize).sum()).sum();
      ObjectNode o = JsonBody.MAPPER.createObjectNode();
      ObjectNode limit = o.putObject("AccountLimit");
      limit.put("TotalCodeSize", 80_530_636_800L);
      limit.put("CodeSizeUnzipped", CodePackage.MAX_UNZIPPED_BYTES);
      limit.put("CodeSizeZipped", CodePackage.MAX_ZIPPED_BYTES);
      limit.put("ConcurrentExecutions", settings.accountConcurrency());
      limit.put("UnreservedConcurrentExecutions", settings.accountConcurrency() - reserved);
      ObjectNode usage = o.putObject("AccountUsage");
      usage.put("TotalCodeSize", totalCode);
      usage.put("FunctionCount", entries.size());
      return Responses.json(200, o);
    });
  }

  // ---- policy ----

  private CompletionStage<HttpResponse> addPermission(String reference, Map<String, String> query, byte[] body) {
    JsonBody b = JsonBody.parse(body, PERMISSION_FIELDS);
    Arns.FunctionRef ref = ref(reference, query.get("Qualifier"));
    String action = b.requiredString("Action");
    if (!action.matches("(lambda:[*]|lambda:[a-zA-Z]+|[*])")) {
      throw LambdaException.validation(action, "action",
          "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])");
    }
    String principal = b.requiredString("Principal");
    if (!principal.matches("[^\\s]+")) {
      throw LambdaException.validation(principal, "principal", "Member must satisfy regular expression pattern: [^\\s]+");
    }
    PolicyStatement statement = new PolicyStatement(Validation.statementId(b.string("StatementId")), ref.qualifier(),
        action, principal, arns.functionArn(ref.name(), ref.qualifier()), b.string("SourceArn"),
        b.string("SourceAccount"), b.string("EventSourceToken"), b.string("PrincipalOrgID"),
        b.string("FunctionUrlAuthType"));
    return this.<PolicyStatement>ask(ref.name(), r -> new FunctionEntity.AddPermission(statement, b.string("RevisionId"), r))
        .thenApply(s -> Responses.json(201, JsonBody.MAPPER.createObjectNode().put("Statement",
            shapes.statement(s).toString())));
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
        .thenApply(p -> {
          ObjectNode o = JsonBody.MAPPER.createObjectNode();
          o.put("Policy", shapes.policyDocument(p.statements()).toString());
          o.put("RevisionId", p.revisionId());
          return Responses.json(200, o);
        });
  }

  // ---- tags ----

  private CompletionStage<HttpResponse> listTags(String arn) {
    String name = arns.parseTaggableFunctionArn(arn);
    return this.<Map<String, String>>ask(name, FunctionEntity.ListTags::new)
        .thenApply(tags -> Responses.json(200, tagsBody(tags)));
  }

  private CompletionStage<HttpResponse> tagResource(String arn, byte[] body) {
    JsonBody b = JsonBody.parse(body, Set.of("Tags"));
    String name = arns.parseTaggableFunctionArn(arn);
    Map<String, String> tags = tags(b.stringMap("Tags"));
    if (tags.isEmpty()) {
      throw LambdaException.invalidParameter("Tags must name at least one tag.");
    }
    return this.<Map<String, String>>ask(name, r -> new FunctionEntity.TagResource(tags, r))
        .thenApply(t -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> untagResource(String arn, Map<String, List<String>> query) {
    String name = arns.parseTaggableFunctionArn(arn);
    List<String> keys = query.getOrDefault("tagKeys", List.of());
    if (keys.isEmpty()) {
      throw LambdaException.invalidParameter("tagKeys must name at least one tag key.");
    }
    return this.<Map<String, String>>ask(name, r -> new FunctionEntity.UntagResource(keys, r))
        .thenApply(t -> Responses.empty(204));
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

  private ObjectNode configuration(FunctionConfig c) {
    return shapes.functionConfiguration(c, c.version().equals(FunctionConfig.LATEST) ? null : c.version());
  }

  private static CodePackage zipOf(JsonBody code) {
    for (String unsupported : List.of("S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")) {
      if (code.has(unsupported)) {
        throw LambdaException.invalidParameter(unsupported + " is not supported by Tributary: there is no object "
            + "store or image registry here. Upload the deployment package as ZipFile (base64).");
      }
    }
    String zip = code.string("ZipFile");
    if (zip == null) {
      throw LambdaException.invalidParameter("ZipFile is required: the deployment package as a base64 zip.");
    }
    return CodePackage.fromZip(CodePackage.decodeBase64(zip));
  }

  private static void refuseUnsupported(JsonBody b) {
    b.refuseUnlessEmpty("Layers", "layers are not stored here; include the layer's files in the deployment package.");
    b.refuseUnlessEmpty("VpcConfig", "functions run on the node's own network; remove VpcConfig.");
    b.refuseUnlessEmpty("FileSystemConfigs", "there is no EFS here; remove FileSystemConfigs.");
    b.refuseUnlessEmpty("ImageConfig", "container images cannot run here; remove ImageConfig.");
    if (b.has("CodeSigningConfigArn")) {
      throw LambdaException.invalidParameter("CodeSigningConfigArn is not supported by Tributary: code signing is not "
          + "checked here; remove CodeSigningConfigArn.");
    }
    JsonBody snapStart = b.object("SnapStart", Set.of("ApplyOn"));
    if (snapStart != null && snapStart.has("ApplyOn") && !"None".equals(snapStart.string("ApplyOn"))) {
      throw LambdaException.invalidParameter("SnapStart.ApplyOn " + snapStart.string("ApplyOn")
          + " is not supported by Tributary; use None or remove SnapStart.");
    }
  }

  private String runtime(String runtime) {
    if (!settings.runtimes().contains(runtime)) {
      throw LambdaException.invalidParameter("The runtime parameter of " + runtime + " is not supported by this "
          + "Tributary: no interpreter is configured for it (tributary.runtime.interpreters). Supported runtimes: "
          + settings.runtimes().stream().sorted().toList() + ".");
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

  private static Map<String, String> environment(JsonBody b) {
    JsonBody env = b.object("Environment", Set.of("Variables"));
    if (env == null) {
      return Map.of();
    }
    Map<String, String> variables = env.stringMap("Variables");
    return variables == null ? Map.of() : Validation.environment(variables);
  }

  private static int ephemeralStorage(JsonBody b) {
    JsonBody storage = b.object("EphemeralStorage", Set.of("Size"));
    if (storage == null || !storage.has("Size")) {
      return FunctionConfig.DEFAULT_EPHEMERAL_STORAGE;
    }
    return Validation.ephemeralStorage(storage.integer("Size"));
  }

  private static String tracingMode(JsonBody b) {
    JsonBody tracing = b.object("TracingConfig", Set.of("Mode"));
    String mode = tracing == null ? null : tracing.string("Mode");
    if (mode != null && !Set.of("Active", "PassThrough").contains(mode)) {
      throw LambdaException.validation(mode, "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]");
    }
    return mode;
  }

  /** In an update, {@code DeadLetterConfig: {}} removes the dead-letter queue, as in AWS. */
  private String deadLetterTarget(JsonBody b) {
    JsonBody dlq = b.object("DeadLetterConfig", Set.of("TargetArn"));
    if (dlq == null) {
      return null;
    }
    String target = dlq.string("TargetArn");
    return Validation.deadLetterTarget(target == null ? "" : target, destinations);
  }

  private static FunctionConfig.LoggingConfig loggingConfig(JsonBody b, String functionName) {
    JsonBody logging = b.object("LoggingConfig", Set.of("LogFormat", "ApplicationLogLevel", "SystemLogLevel", "LogGroup"));
    if (logging == null) {
      return null;
    }
    String format = logging.string("LogFormat");
    if (format != null && !Set.of("Text", "JSON").contains(format)) {
      throw LambdaException.validation(format, "loggingConfig.logFormat", "Member must satisfy enum value set: [JSON, Text]");
    }
    String group = logging.string("LogGroup");
    return new FunctionConfig.LoggingConfig(format == null ? "Text" : format, logging.string("ApplicationLogLevel"),
        logging.string("SystemLogLevel"), group == null ? "/aws/lambda/" + functionName : group);
  }

  private static Map<String, Double> routingWeights(JsonBody b) {
    JsonBody routing = b.object("RoutingConfig", Set.of("AdditionalVersionWeights"));
    if (routing == null) {
      return Map.of();
    }
    Map<String, Double> weights = routing.numberMap("AdditionalVersionWeights");
    if (weights == null) {
      return Map.of();
    }
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

  private static Map<String, String> tags(Map<String, String> tags) {
    if (tags == null) {
      return Map.of();
    }
    if (tags.size() > 50) {
      throw LambdaException.invalidParameter("A function can have at most 50 tags; the request has " + tags.size() + ".");
    }
    tags.forEach((k, v) -> {
      if (k.isEmpty() || k.length() > 128 || k.startsWith("aws:")) {
        throw LambdaException.invalidParameter("Tag key '" + k + "' is invalid: keys are 1-128 characters and may not "
            + "start with aws:.");
      }
      if (v.length() > 256) {
        throw LambdaException.invalidParameter("The value of tag '" + k + "' is longer than 256 characters.");
      }
    });
    return new HashMap<>(tags);
  }

  private static ObjectNode tagsBody(Map<String, String> tags) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.set("Tags", Shapes.tags(tags));
    return o;
  }

  /** A list's MaxItems (1–10,000); pages hold at most 50, as a server may choose. */
  static int maxItems(Map<String, String> query) {
    String raw = query.get("MaxItems");
    if (raw == null) {
      return PAGE_LIMIT;
    }
    int n;
    try {
      n = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw LambdaException.invalidParameter("MaxItems must be an integer from 1 to 10000, got '" + raw + "'.");
    }
    if (n < 1 || n > 10000) {
      throw LambdaException.validation(n, "maxItems", "Member must have value between 1 and 10000");
    }
    return Math.min(n, PAGE_LIMIT);
  }

  private static <T> List<T> page(List<T> all, Function<T, String> key, String after, int limit) {
    int start = 0;
    if (after != null) {
      start = all.size();
      for (int i = 0; i < all.size(); i++) {
        if (key.apply(all.get(i)).equals(after)) {
          start = i + 1;
          break;
        }
      }
    }
    return new ArrayList<>(all.subList(start, Math.min(all.size(), start + limit)));
  }

  private static String encodeMarker(String key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String decodeMarker(String marker) {
    if (marker == null || marker.isEmpty()) {
      return null;
    }
    try {
      return new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw LambdaException.invalidParameter("Marker '" + marker + "' is not a marker this API returned: pass the "
          + "NextMarker of the previous page unchanged.");
    }
  }
}
