package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.api.Arns;
import io.tributary.api.CodePackage;
import io.tributary.api.FunctionConfig;
import io.tributary.api.LambdaException;
import io.tributary.api.LayerVersion;
import io.tributary.api.PolicyStatement;
import io.tributary.api.Runtimes;
import io.tributary.api.Validation;
import io.tributary.cluster.Reply;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.store.CodeStore;
import io.tributary.cluster.store.LayerRegistry;
import io.tributary.http.Operation.Call;
import io.tributary.http.Operation.Limit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Lambda's layer operations on AWS's paths under {@code /2018-10-31/layers}: PublishLayerVersion,
 * Get/List/DeleteLayerVersion(s), GetLayerVersionByArn, ListLayers and the layer version policy
 * operations, with AWS's shapes, limits and errors. Requests are checked here; what depends on a
 * layer's state (its version numbers, its policies and their RevisionIds) is decided by its
 * {@link LayerEntity}; ListLayers reads the {@link LayerRegistry}.
 *
 * <p>A layer's content is a zip like a function's code, validated and stored the same way
 * (content-addressed, chunked: {@link CodeStore}). It is given as {@code Content.ZipFile}, or, since
 * there is no S3 here, as a package already in the code store: {@code S3Bucket} {@value #CODE_STORE}
 * and {@code S3Key} the package's hex SHA-256 (the hex in a function's {@code Code.Location} or a
 * layer version's {@code Content.Location}). {@code Content.Location} is a presigned download URL,
 * as GetFunction's {@code Code.Location}.
 *
 * <p>{@link #functionLayers} checks CreateFunction's and UpdateFunctionConfiguration's
 * {@code Layers} as AWS does and resolves each to what the function records of it.
 */
final class LayerRoutes {

  /** The S3Bucket that names Tributary's code store in PublishLayerVersion's Content. */
  static final String CODE_STORE = "tributary-code";

  private static final int MAX_RUNTIMES = 15;
  private static final List<String> ARCHITECTURES = List.of("x86_64", "arm64");
  private static final Pattern LAYER_NAME =
      Pattern.compile("(arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\\d{12}):layer:([a-zA-Z0-9-_]+))|([a-zA-Z0-9-_]+)");
  private static final String LAYER_NAME_AS_AWS_WRITES_IT =
      "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
  /** A layer version's ARN: groups 1 region, 2 account, 3 name, 4 version; 5 an AWS-managed layer's name. */
  private static final Pattern LAYER_VERSION_ARN = Pattern.compile("arn:(?:aws[a-zA-Z-]*)?:lambda:((?:eusc-)?[a-z]{2}"
      + "(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\\d{1}):(\\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)"
      + "|arn:[a-zA-Z0-9-]+:lambda:::awslayer:([a-zA-Z0-9-_]+)");
  private static final String LAYER_VERSION_ARN_AS_AWS_WRITES_IT = "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}"
      + "((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)"
      + "|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";
  private static final Pattern STATEMENT_ID = Pattern.compile("[a-zA-Z0-9-_]{1,100}");
  private static final Pattern PRINCIPAL = Pattern.compile("\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
  private static final Pattern ORGANIZATION_ID = Pattern.compile("o-[a-z0-9]{10,32}");
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");
  private static final String GET_LAYER_VERSION = "lambda:GetLayerVersion";

  // ---- request shapes ----

  record PublishLayerVersion(String description, Content content, List<String> compatibleRuntimes,
                             String licenseInfo, List<String> compatibleArchitectures) {}

  /** LayerVersionContentInput: a zip in base64, or (S3Bucket {@value #CODE_STORE}) a package of the code store. */
  record Content(String s3Bucket, String s3Key, String s3ObjectVersion, String zipFile) {}

  /** The body of AddLayerVersionPermission; its RevisionId is in the query, as in AWS's model. */
  record AddLayerVersionPermission(String statementId, String action, String principal, String organizationId) {}

  // ---- response shapes ----

  /** LayerVersionContentOutput. */
  record ContentOutput(String location, String codeSha256, long codeSize) {}

  /** GetLayerVersion's, GetLayerVersionByArn's and PublishLayerVersion's answer. */
  record LayerVersionShape(ContentOutput content, String layerArn, String layerVersionArn, String description,
                           String createdDate, long version,
                           @JsonInclude(Include.NON_NULL) List<String> compatibleRuntimes,
                           @JsonInclude(Include.NON_NULL) String licenseInfo,
                           @JsonInclude(Include.NON_NULL) List<String> compatibleArchitectures) {}

  /** LayerVersionsListItem: a version without its content. */
  record LayerVersionsListItem(String layerVersionArn, long version, String description, String createdDate,
                               @JsonInclude(Include.NON_NULL) List<String> compatibleRuntimes,
                               @JsonInclude(Include.NON_NULL) String licenseInfo,
                               @JsonInclude(Include.NON_NULL) List<String> compatibleArchitectures) {}

  record LayersListItem(String layerName, String layerArn, LayerVersionsListItem latestMatchingVersion) {}

  record LayerList(@JsonInclude(Include.NON_NULL) String nextMarker, List<LayersListItem> layers) {}

  record LayerVersionList(@JsonInclude(Include.NON_NULL) String nextMarker, List<LayerVersionsListItem> layerVersions) {}

  /** AddLayerVersionPermission's answer: the statement as a JSON string, as AWS sends it. */
  record AddedStatement(String statement, String revisionId) {}

  /** GetLayerVersionPolicy's answer: the policy document as a JSON string. */
  record Policy(String policy, String revisionId) {}

  private final FunctionAsk asker;
  private final LayerRegistry registry;
  private final CodeStore codeStore;
  private final CodeUrls codeUrls;
  private final Arns arns;
  private final Shapes shapes;

  LayerRoutes(FunctionAsk asker, LayerRegistry registry, CodeStore codeStore, CodeUrls codeUrls, Arns arns) {
    this.asker = asker;
    this.registry = registry;
    this.codeStore = codeStore;
    this.codeUrls = codeUrls;
    this.arns = arns;
    this.shapes = new Shapes(arns);
  }

  /** GetLayerVersionByArn shares ListLayers' path; its {@code find=LayerVersion} tells them apart. */
  List<Operation> operations() {
    String layers = "/2018-10-31/layers";
    String versions = layers + "/{LayerName}/versions";
    String version = versions + "/{VersionNumber}";
    return List.of(
        Operation.post("PublishLayerVersion", versions, this::publish).limit(Limit.CODE),
        Operation.get("ListLayerVersions", versions, call -> listVersions(call.variable(0), call.query())),
        Operation.get("GetLayerVersion", version, call -> getVersion(call.variable(0), call.variable(1))),
        Operation.delete("DeleteLayerVersion", version, call -> deleteVersion(call.variable(0), call.variable(1))),
        Operation.get("GetLayerVersionByArn", layers + "?find=LayerVersion", call -> getByArn(call.parameter("Arn"))),
        Operation.get("ListLayers", layers, call -> listLayers(call.query())),
        Operation.post("AddLayerVersionPermission", version + "/policy", this::addPermission),
        Operation.get("GetLayerVersionPolicy", version + "/policy",
            call -> getPolicy(call.variable(0), call.variable(1))),
        Operation.delete("RemoveLayerVersionPermission", version + "/policy/{StatementId}",
            call -> removePermission(call.variable(0), call.variable(1), call.variable(2), call.parameter("RevisionId"))));
  }

  // ---- versions ----

  private CompletionStage<HttpResponse> publish(Call call) {
    String name = layerName(call.variable(0));
    PublishLayerVersion b = call.read(PublishLayerVersion.class);
    List<String> runtimes = b.compatibleRuntimes() == null ? List.of() : b.compatibleRuntimes();
    List<String> architectures = b.compatibleArchitectures() == null ? List.of() : b.compatibleArchitectures();
    checkCompatibility(runtimes, architectures);
    String description = Validation.description(b.description());
    if (b.licenseInfo() != null && b.licenseInfo().length() > 512) {
      throw LambdaException.validation("...", "licenseInfo", "Member must have length less than or equal to 512");
    }
    if (b.content() == null) {
      throw LambdaException.validation(null, "content", "Member must not be null");
    }
    return content(b.content()).thenCompose(zip -> {
      LayerVersion draft = new LayerVersion(name, 0, description, runtimes, architectures, b.licenseInfo(),
          zip.sha256Base64(), zip.size(), zip.sha256Hex(), zip.unzippedSize(), null);
      return this.<LayerVersion>ask(name, r -> new LayerEntity.Publish(draft, r));
    }).thenApply(v -> Responses.json(201, shape(v)));
  }

  /**
   * The validated package of {@code Content}: its ZipFile, stored like function code, or the package
   * of the code store that S3Key names (read and validated again: the unzipped size is needed).
   */
  private CompletionStage<CodePackage> content(Content c) {
    boolean fromStore = c.s3Bucket() != null || c.s3Key() != null;
    if (c.zipFile() != null && (fromStore || c.s3ObjectVersion() != null)) {
      throw LambdaException.invalidParameter("Content gives both ZipFile and S3 members: give the layer's zip as "
          + "ZipFile, or name a package of Tributary's code store with S3Bucket and S3Key, not both.");
    }
    if (c.s3ObjectVersion() != null) {
      throw LambdaException.invalidParameter("S3ObjectVersion is not supported by Tributary: its code store keeps one "
          + "package per SHA-256, without versions. Remove S3ObjectVersion.");
    }
    if (c.zipFile() != null) {
      CodePackage zip = CodePackage.fromZip(CodePackage.decodeBase64(c.zipFile()));
      return codeStore.store(zip).thenApply(stored -> zip);
    }
    String hex = codeStoreKey(c.s3Bucket(), c.s3Key());
    return codeStore.readAll(hex).thenApply(bytes -> CodePackage.fromZip(bytes.orElseThrow(
        () -> LambdaException.invalidParameter("S3Key " + c.s3Key() + " names no package in Tributary's code store. "
            + "Give the hex SHA-256 of a function's code or of another layer's content (the hex in GetFunction's "
            + "Code.Location or GetLayerVersion's Content.Location), or upload the zip as ZipFile."))));
  }

  /** The hex SHA-256 that S3Bucket {@value #CODE_STORE} and S3Key name; anything else is refused with what to give. */
  static String codeStoreKey(String bucket, String key) {
    if (bucket == null && key == null) {
      throw LambdaException.invalidParameter("Content names no zip: give the layer's zip as ZipFile (base64), or a "
          + "package already in Tributary's code store as S3Bucket \"" + CODE_STORE + "\" and S3Key its hex SHA-256.");
    }
    if (!CODE_STORE.equals(bucket)) {
      throw LambdaException.invalidParameter("S3Bucket " + bucket + " is not available: Tributary has no S3. Give the "
          + "layer's zip as ZipFile (base64), or a package already in Tributary's code store as S3Bucket \""
          + CODE_STORE + "\" and S3Key its hex SHA-256.");
    }
    if (key == null || !SHA256_HEX.matcher(key).matches()) {
      throw LambdaException.invalidParameter("S3Key " + key + " is not a package of Tributary's code store: with S3Bucket"
          + " \"" + CODE_STORE + "\", S3Key is the hex SHA-256 (64 hex digits) of a function's code or a layer's "
          + "content, as in GetFunction's Code.Location or GetLayerVersion's Content.Location.");
    }
    return key.toLowerCase();
  }

  private CompletionStage<HttpResponse> getVersion(String layer, String number) {
    String name = layerName(layer);
    long version = versionNumber(number);
    return this.<LayerVersion>ask(name, r -> new LayerEntity.GetVersion(version, r))
        .thenApply(v -> Responses.json(200, shape(v)));
  }

  private CompletionStage<HttpResponse> getByArn(String arn) {
    if (arn == null) {
      throw LambdaException.validation(null, "arn", "Member must not be null");
    }
    Matcher m = LAYER_VERSION_ARN.matcher(arn);
    if (arn.length() > 140 || !m.matches()) {
      throw LambdaException.validation(arn, "arn", "Member must satisfy regular expression pattern: "
          + LAYER_VERSION_ARN_AS_AWS_WRITES_IT);
    }
    if (m.group(5) != null || !m.group(1).equals(arns.region()) || !m.group(2).equals(arns.accountId())) {
      throw LambdaException.notFound("The resource you requested does not exist. (" + arn + " is not a layer of this "
          + "Tributary, which serves account " + arns.accountId() + " in region " + arns.region() + ".)");
    }
    return getVersion(m.group(3), m.group(4));
  }

  private CompletionStage<HttpResponse> listVersions(String layer, Map<String, String> query) {
    String name = layerName(layer);
    Predicate<LayerVersion> filter = filter(query);
    Paging.Request request = Paging.request(query, 50);
    return this.<List<LayerVersion>>ask(name, LayerEntity.ListVersions::new).thenApply(all -> {
      Paging.Page<LayerVersion> page = Paging.page(all.stream().filter(filter).toList(),
          v -> Long.toString(v.version()), request);
      return Responses.json(200, new LayerVersionList(page.nextMarker(),
          page.items().stream().map(this::listItem).toList()));
    });
  }

  private CompletionStage<HttpResponse> listLayers(Map<String, String> query) {
    Predicate<LayerVersion> filter = filter(query);
    Paging.Request request = Paging.request(query, 50);
    Function<List<LayerVersion>, Optional<LayerVersion>> latestMatching = ascending -> {
      for (int i = ascending.size() - 1; i >= 0; i--) {
        if (filter.test(ascending.get(i))) {
          return Optional.of(ascending.get(i));
        }
      }
      return Optional.empty();
    };
    return registry.list(request.after(), request.limit(), latestMatching).thenApply(page -> Responses.json(200,
        new LayerList(page.lastName() == null ? null : Paging.marker(page.lastName()), page.entries().stream()
            .map(e -> new LayersListItem(e.layerName(), arns.layerArn(e.layerName()), listItem(e.version())))
            .toList())));
  }

  private CompletionStage<HttpResponse> deleteVersion(String layer, String number) {
    String name = layerName(layer);
    long version = versionNumber(number);
    return this.<Boolean>ask(name, r -> new LayerEntity.DeleteVersion(version, r)).thenApply(done -> Responses.empty(204));
  }

  // ---- policies ----

  private CompletionStage<HttpResponse> addPermission(Call call) {
    String name = layerName(call.variable(0));
    long version = versionNumber(call.variable(1));
    AddLayerVersionPermission b = call.read(AddLayerVersionPermission.class);
    String sid = statementId(b.statementId());
    if (b.action() == null) {
      throw LambdaException.validation(null, "action", "Member must not be null");
    }
    if (!b.action().equals(GET_LAYER_VERSION)) {
      throw LambdaException.validation(b.action(), "action",
          "Member must satisfy regular expression pattern: " + GET_LAYER_VERSION);
    }
    if (b.principal() == null) {
      throw LambdaException.validation(null, "principal", "Member must not be null");
    }
    if (!PRINCIPAL.matcher(b.principal()).matches()) {
      throw LambdaException.validation(b.principal(), "principal",
          "Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
    }
    if (b.organizationId() != null && (b.organizationId().length() > 34
        || !ORGANIZATION_ID.matcher(b.organizationId()).matches())) {
      throw LambdaException.validation(b.organizationId(), "organizationId",
          "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}");
    }
    PolicyStatement statement = new PolicyStatement(sid, "", b.action(), b.principal(),
        arns.layerVersionArn(name, version), null, null, null, b.organizationId(), null, false);
    String revisionId = call.parameter("RevisionId");
    return this.<LayerEntity.Permission>ask(name, r -> new LayerEntity.AddPermission(version, statement, revisionId, r))
        .thenApply(p -> Responses.json(201, new AddedStatement(Responses.text(shapes.statement(p.statement())),
            p.revisionId())));
  }

  private CompletionStage<HttpResponse> getPolicy(String layer, String number) {
    String name = layerName(layer);
    long version = versionNumber(number);
    return this.<LayerEntity.Policy>ask(name, r -> new LayerEntity.GetPolicy(version, r))
        .thenApply(p -> Responses.json(200, new Policy(Responses.text(shapes.policyDocument(p.statements())),
            p.revisionId())));
  }

  private CompletionStage<HttpResponse> removePermission(String layer, String number, String sid, String revisionId) {
    String name = layerName(layer);
    long version = versionNumber(number);
    statementId(sid);
    return this.<Boolean>ask(name, r -> new LayerEntity.RemovePermission(version, sid, revisionId, r))
        .thenApply(done -> Responses.empty(204));
  }

  // ---- a function's Layers ----

  /**
   * CreateFunction's or UpdateFunctionConfiguration's {@code Layers}, checked as AWS checks them, each
   * resolved to what the function records of its version; null (absent) stays null. Checked in this
   * order, each failure AWS's: every ARN a layer version's ({@code ValidationException}); at most
   * {@value FunctionConfig#MAX_LAYERS}; each of this region ({@code InvalidParameterValueException})
   * and this account (403, as for another account's layer no policy shares); no layer twice; each
   * version exists (asked of its LayerEntity, all at once).
   */
  static CompletionStage<List<FunctionConfig.Layer>> functionLayers(FunctionAsk asker, Arns arns,
                                                                     List<String> layerVersionArns) {
    if (layerVersionArns == null) {
      return CompletableFuture.completedFuture(null);
    }
    List<Matcher> parsed = new ArrayList<>();
    for (String arn : layerVersionArns) {
      Matcher m = LAYER_VERSION_ARN.matcher(arn);
      if (arn.length() > 2048 || !m.matches()) {
        throw LambdaException.validation(layerVersionArns, "layers", "Member must satisfy constraint: [Member must "
            + "have length less than or equal to 2048, Member must have length greater than or equal to 1, Member "
            + "must satisfy regular expression pattern: " + LAYER_VERSION_ARN_AS_AWS_WRITES_IT
            + ", Member must not be null]");
      }
      parsed.add(m);
    }
    if (layerVersionArns.size() > FunctionConfig.MAX_LAYERS) {
      throw LambdaException.invalidParameter("Cannot reference more than " + FunctionConfig.MAX_LAYERS + " layers.");
    }
    Map<String, String> seen = new HashMap<>();
    for (Matcher m : parsed) {
      String arn = m.group();
      if (m.group(5) != null) {
        throw LambdaException.invalidParameter("Layer version " + arn + " does not exist. (AWS's own layers are not "
            + "available in Tributary: publish the layer here and use its ARN.)");
      }
      if (!m.group(1).equals(arns.region())) {
        throw LambdaException.invalidParameter("Layers are not in the same region as the function. Layers are "
            + "expected to be in region " + arns.region() + ".");
      }
      if (!m.group(2).equals(arns.accountId())) {
        throw new LambdaException(403, "AccessDeniedException", "User: arn:aws:iam::" + arns.accountId()
            + ":root is not authorized to perform: lambda:GetLayerVersion on resource: " + arn + " because no "
            + "resource-based policy allows the lambda:GetLayerVersion action (Tributary serves account "
            + arns.accountId() + " only: publish the layer in it).");
      }
      String earlier = seen.putIfAbsent(m.group(3), arn);
      if (earlier != null) {
        throw LambdaException.invalidParameter("Two different versions of the same layer are not allowed to be "
            + "referenced in the same function. " + earlier + " and " + arn + " are versions of the same layer.");
      }
    }
    List<CompletableFuture<FunctionConfig.Layer>> layers = new ArrayList<>();
    for (Matcher m : parsed) {
      String name = m.group(3);
      String arn = arns.layerVersionArn(name, Long.parseLong(m.group(4)));
      long version = Long.parseLong(m.group(4));
      layers.add(asker.<LayerEntity.Command, LayerVersion>ask(LayerEntity.TYPE_KEY, name, "Layer " + name,
              r -> new LayerEntity.GetVersion(version, r))
          .handle((v, failure) -> {
            if (failure == null) {
              return v.asFunctionLayer(arn);
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
            if (cause instanceof LambdaException e && e.status() == 404) {
              throw LambdaException.invalidParameter("Layer version " + m.group() + " does not exist.");
            }
            throw new CompletionException(cause);
          }).toCompletableFuture());
    }
    return CompletableFuture.allOf(layers.toArray(CompletableFuture[]::new))
        .thenApply(done -> layers.stream().map(CompletableFuture::join).toList());
  }

  // ---- checks ----

  /** A path's LayerName: a name, or the ARN of a layer of this account and region. */
  String layerName(String reference) {
    if (reference.length() > 140) {
      throw LambdaException.validation(reference, "layerName", "Member must have length less than or equal to 140");
    }
    Matcher m = LAYER_NAME.matcher(reference);
    if (!m.matches()) {
      throw LambdaException.validation(reference, "layerName", "Member must satisfy regular expression pattern: "
          + LAYER_NAME_AS_AWS_WRITES_IT);
    }
    if (m.group(5) != null) {
      return m.group(5);
    }
    if (!m.group(2).equals(arns.region()) || !m.group(3).equals(arns.accountId())) {
      throw LambdaException.notFound("The resource you requested does not exist. (" + reference + " is not a layer of "
          + "this Tributary, which serves account " + arns.accountId() + " in region " + arns.region() + ".)");
    }
    return m.group(4);
  }

  /** A path's VersionNumber: AWS refuses numbers below 1 before looking for the layer. */
  static long versionNumber(String raw) {
    long version;
    try {
      version = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw LambdaException.invalidParameter("VersionNumber must be a whole number (a layer version), got '" + raw
          + "'.");
    }
    if (version < 1) {
      throw LambdaException.invalidParameter("Layer Version Cannot be less than 1");
    }
    return version;
  }

  /** A layer statement's id: AWS's pattern for layers has no dot, unlike a function's. */
  static String statementId(String sid) {
    if (sid == null) {
      throw LambdaException.validation(null, "statementId", "Member must not be null");
    }
    if (!STATEMENT_ID.matcher(sid).matches()) {
      throw LambdaException.validation(sid, "statementId",
          "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+) and have length between 1 and 100");
    }
    return sid;
  }

  /**
   * CompatibleRuntimes (at most 15 of Lambda's runtime ids) and CompatibleArchitectures (at most 2 of
   * x86_64, arm64); AWS reports both in one ValidationException when both are wrong.
   */
  static void checkCompatibility(List<String> runtimes, List<String> architectures) {
    List<String> errors = new ArrayList<>();
    if (runtimes.size() > MAX_RUNTIMES) {
      errors.add("Value '" + runtimes + "' at 'compatibleRuntimes' failed to satisfy constraint: Member must have "
          + "length less than or equal to " + MAX_RUNTIMES);
    } else if (!Runtimes.LAMBDA.containsAll(runtimes)) {
      errors.add("Value '" + runtimes + "' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy "
          + "enum value set: " + Runtimes.LAMBDA);
    }
    if (architectures.size() > ARCHITECTURES.size()) {
      errors.add("Value '" + architectures + "' at 'compatibleArchitectures' failed to satisfy constraint: Member must "
          + "have length less than or equal to " + ARCHITECTURES.size());
    } else if (!ARCHITECTURES.containsAll(architectures)) {
      errors.add("Value '" + architectures + "' at 'compatibleArchitectures' failed to satisfy constraint: Member must "
          + "satisfy constraint: [Member must satisfy enum value set: " + ARCHITECTURES + ", Member must not be null]");
    }
    if (!errors.isEmpty()) {
      throw new LambdaException(400, "ValidationException", errors.size() + " validation error"
          + (errors.size() > 1 ? "s" : "") + " detected: " + String.join("; ", errors));
    }
  }

  /** ListLayers' and ListLayerVersions' CompatibleRuntime and CompatibleArchitecture, as a test of a version. */
  static Predicate<LayerVersion> filter(Map<String, String> query) {
    String runtime = query.get("CompatibleRuntime");
    String architecture = query.get("CompatibleArchitecture");
    if (runtime != null && !Runtimes.LAMBDA.contains(runtime)) {
      throw LambdaException.validation(runtime, "compatibleRuntime", "Member must satisfy enum value set: "
          + Runtimes.LAMBDA);
    }
    if (architecture != null && !ARCHITECTURES.contains(architecture)) {
      throw LambdaException.validation(architecture, "compatibleArchitecture", "Member must satisfy enum value set: "
          + ARCHITECTURES);
    }
    return v -> (runtime == null || v.compatibleRuntimes().contains(runtime))
        && (architecture == null || v.compatibleArchitectures().contains(architecture));
  }

  // ---- shapes and asks ----

  private LayerVersionShape shape(LayerVersion v) {
    return new LayerVersionShape(new ContentOutput(codeUrls.url(v.codeSha256Hex()), v.codeSha256(), v.codeSize()),
        arns.layerArn(v.layerName()), arns.layerVersionArn(v.layerName(), v.version()), v.description(),
        v.createdDate(), v.version(), noneAsAbsent(v.compatibleRuntimes()), v.licenseInfo(),
        noneAsAbsent(v.compatibleArchitectures()));
  }

  private LayerVersionsListItem listItem(LayerVersion v) {
    return new LayerVersionsListItem(arns.layerVersionArn(v.layerName(), v.version()), v.version(), v.description(),
        v.createdDate(), noneAsAbsent(v.compatibleRuntimes()), v.licenseInfo(),
        noneAsAbsent(v.compatibleArchitectures()));
  }

  /** AWS leaves out the compatibility lists of a version published without them. */
  private static List<String> noneAsAbsent(List<String> values) {
    return values.isEmpty() ? null : values;
  }

  private <T> CompletionStage<T> ask(String layerName, Function<ActorRef<Reply<T>>, LayerEntity.Command> command) {
    return asker.ask(LayerEntity.TYPE_KEY, layerName, "Layer " + layerName, command);
  }
}
