package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AddLayerVersionPermissionResponse;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.LayerVersionsListItem;
import software.amazon.awssdk.services.lambda.model.LayersListItem;
import software.amazon.awssdk.services.lambda.model.ListLayersResponse;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.PublishLayerVersionRequest;
import software.amazon.awssdk.services.lambda.model.PublishLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Layers end to end, through the AWS SDK for Java 2.51 (and one boto3 round trip): the nine layer
 * operations with AWS's shapes and errors, layer content as a zip or from the code store, a
 * function's {@code Layers} on create and update, the 250 MB limit of code and layers together, and
 * all of it across a node restart. Every refused request is checked to have changed nothing.
 */
class LayersIT {

  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String LAYERS = "arn:aws:lambda:us-east-1:000000000000:layer:";
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension("it_layers");

  private static LambdaClient lambda() {
    return NODE.lambda();
  }

  private static byte[] zip(String file, String content) {
    return Zips.of(Map.of(file, content));
  }

  /** A zip of one file of {@code bytes} zeros: large unzipped, a few hundred KB zipped. */
  private static byte[] zeros(String file, long bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry(file));
      byte[] chunk = new byte[1 << 16];
      for (long left = bytes; left > 0; left -= chunk.length) {
        zip.write(chunk, 0, (int) Math.min(chunk.length, left));
      }
      zip.closeEntry();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static PublishLayerVersionResponse publish(String name, byte[] zip, Consumer<PublishLayerVersionRequest.Builder> more) {
    return lambda().publishLayerVersion(b -> {
      b.layerName(name).content(c -> c.zipFile(SdkBytes.fromByteArray(zip)));
      more.accept(b);
    });
  }

  private static PublishLayerVersionResponse publish(String name) {
    return publish(name, zip("python/" + name + ".py", "NAME = '" + name + "'\n"), b -> { });
  }

  private static String sha256(byte[] bytes) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static void assertError(int status, String type, String message, LambdaException e) {
    assertEquals(status, e.statusCode(), e.getMessage());
    assertEquals(type, e.awsErrorDetails().errorCode(), e.getMessage());
    if (message != null) {
      assertEquals(message, e.awsErrorDetails().errorMessage());
    }
  }

  private static List<Long> versions(String layer) {
    return lambda().listLayerVersions(b -> b.layerName(layer)).layerVersions().stream()
        .map(LayerVersionsListItem::version).toList();
  }

  private static GetFunctionConfigurationResponse createFunction(String name, byte[] code, List<String> layers) {
    var created = lambda().createFunction(b -> b.functionName(name).runtime("provided.al2023").role(ROLE)
        .handler("bootstrap").layers(layers).code(c -> c.zipFile(SdkBytes.fromByteArray(code))));
    return lambda().getFunctionConfiguration(b -> b.functionName(created.functionName()));
  }

  private static List<String> fieldNames(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<String> layerArns(List<Layer> layers) {
    return layers.stream().map(Layer::arn).toList();
  }

  @Test
  void versionsArePublishedReadListedAndDeletedAsOnAwsAndANumberIsNeverReused() throws Exception {
    byte[] zip = zip("python/libs.py", "VERSION = 1\n");
    long codeBefore = lambda().getAccountSettings().accountUsage().totalCodeSize();
    PublishLayerVersionResponse first = publish("libs", zip, b -> b.description("shared libs")
        .compatibleRuntimes(Runtime.PYTHON3_12, Runtime.PYTHON3_13).compatibleArchitectures(Architecture.ARM64)
        .licenseInfo("MIT"));
    assertEquals(201, first.sdkHttpResponse().statusCode());
    assertEquals(1, first.version());
    assertEquals(LAYERS + "libs", first.layerArn());
    assertEquals(LAYERS + "libs:1", first.layerVersionArn());
    assertEquals("shared libs", first.description());
    assertEquals("MIT", first.licenseInfo());
    assertEquals(List.of("python3.12", "python3.13"), first.compatibleRuntimesAsStrings());
    assertEquals(List.of(Architecture.ARM64), first.compatibleArchitectures());
    assertEquals(sha256(zip), first.content().codeSha256());
    assertEquals(zip.length, first.content().codeSize());
    assertTrue(first.createdDate().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0000"), first.createdDate());
    byte[] downloaded = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(first.content().location()))
        .build(), HttpResponse.BodyHandlers.ofByteArray()).body();
    assertArrayEquals(zip, downloaded, "Content.Location is a presigned download of the zip");
    assertEquals(codeBefore + zip.length, lambda().getAccountSettings().accountUsage().totalCodeSize(),
        "TotalCodeSize counts layer archives too, as AWS's does");

    PublishLayerVersionResponse bare = publish("libs");
    assertEquals(2, bare.version());
    assertEquals("", bare.description());
    assertFalse(bare.hasCompatibleRuntimes(), "left out when none were given, as AWS does");
    assertNull(bare.licenseInfo());

    GetLayerVersionResponse got = lambda().getLayerVersion(b -> b.layerName("libs").versionNumber(1L));
    assertEquals(first.layerVersionArn(), got.layerVersionArn());
    assertEquals(first.createdDate(), got.createdDate());
    assertEquals(first.content().codeSha256(), got.content().codeSha256());
    assertEquals(1, lambda().getLayerVersion(b -> b.layerName(LAYERS + "libs").versionNumber(1L)).version(),
        "the layer named by its ARN");
    var byArn = lambda().getLayerVersionByArn(b -> b.arn(LAYERS + "libs:2"));
    assertEquals(2, byArn.version());
    assertEquals(LAYERS + "libs", byArn.layerArn());
    assertEquals(List.of(2L, 1L), versions("libs"), "newest first");
    JsonNode raw = JSON.readTree(NODE.node().signedGet("/2018-10-31/layers/libs/versions/1"));
    assertEquals(List.of("Content", "LayerArn", "LayerVersionArn", "Description", "CreatedDate", "Version",
        "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"), fieldNames(raw), "AWS's members, in its order");
    assertEquals(List.of("Location", "CodeSha256", "CodeSize"), fieldNames(raw.get("Content")));

    assertEquals(204, lambda().deleteLayerVersion(b -> b.layerName("libs").versionNumber(2L)).sdkHttpResponse()
        .statusCode());
    assertEquals(204, lambda().deleteLayerVersion(b -> b.layerName("libs").versionNumber(2L)).sdkHttpResponse()
        .statusCode(), "deleting a version that is gone is no error, as on AWS");
    lambda().deleteLayerVersion(b -> b.layerName("never-published").versionNumber(1L));
    assertError(404, "ResourceNotFoundException", "The resource you requested does not exist.", assertThrows(
        ResourceNotFoundException.class, () -> lambda().getLayerVersion(b -> b.layerName("libs").versionNumber(2L))));
    assertError(404, "ResourceNotFoundException", "The resource you requested does not exist.", assertThrows(
        ResourceNotFoundException.class, () -> lambda().getLayerVersionByArn(b -> b.arn(LAYERS + "libs:2"))));
    assertEquals(3, publish("libs").version(), "2 was deleted and is not given again");
    assertEquals(List.of(3L, 1L), versions("libs"));
    assertEquals(List.of(), versions("never-published"), "AWS lists no versions rather than a 404");

    assertError(400, "InvalidParameterValueException", "Layer Version Cannot be less than 1", assertThrows(
        InvalidParameterValueException.class, () -> lambda().getLayerVersion(b -> b.layerName("libs").versionNumber(0L))));
    assertError(400, "InvalidParameterValueException", "Layer Version Cannot be less than 1", assertThrows(
        InvalidParameterValueException.class, () -> lambda().deleteLayerVersion(b -> b.layerName("libs")
            .versionNumber(-1L))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().getLayerVersionByArn(b -> b.arn(LAYERS + "libs"))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> publish("bad name!")));
    LambdaException badCompatibility = assertThrows(LambdaException.class, () -> publish("libs",
        zip("python/x.py", "x = 1\n"), b -> b.compatibleRuntimesWithStrings("cobol85").compatibleArchitecturesWithStrings("sparc")));
    assertError(400, "ValidationException", null, badCompatibility);
    assertTrue(badCompatibility.awsErrorDetails().errorMessage().startsWith("2 validation errors detected: "));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class, () -> publish("libs",
        zip("python/x.py", "x = 1\n"), b -> b.description("d".repeat(257)))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class, () -> publish("libs",
        zip("python/x.py", "x = 1\n"), b -> b.licenseInfo("l".repeat(513)))));
    assertError(400, "InvalidParameterValueException", null, assertThrows(InvalidParameterValueException.class,
        () -> publish("libs", "not a zip".getBytes(), b -> { })));
    assertEquals(List.of(3L, 1L), versions("libs"), "nothing refused was published");
    assertEquals(4, publish("libs").version(), "and no number was spent on it");
  }

  @Test
  void contentComesFromTheCodeStoreByItsHexSha256OrIsRefusedWithWhatToGive() throws Exception {
    byte[] code = Zips.withBootstrap("#!/bin/sh\necho from the store\n");
    createFunction("store-source", code, List.of());
    String location = lambda().getFunction(b -> b.functionName("store-source")).code().location();
    String hex = URI.create(location).getPath().substring("/tributary/code/".length());
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(code)), hex);

    PublishLayerVersionResponse fromCode = lambda().publishLayerVersion(b -> b.layerName("from-store")
        .content(c -> c.s3Bucket("tributary-code").s3Key(hex)));
    assertEquals(sha256(code), fromCode.content().codeSha256());
    assertEquals(code.length, fromCode.content().codeSize());
    String layerHex = URI.create(fromCode.content().location()).getPath().substring("/tributary/code/".length());
    assertEquals(hex, layerHex, "the same content, stored once");
    PublishLayerVersionResponse fromLayer = lambda().publishLayerVersion(b -> b.layerName("from-store")
        .content(c -> c.s3Bucket("tributary-code").s3Key(layerHex.toUpperCase())));
    assertEquals(2, fromLayer.version());
    assertEquals(fromCode.content().codeSha256(), fromLayer.content().codeSha256());

    InvalidParameterValueException otherBucket = assertThrows(InvalidParameterValueException.class,
        () -> lambda().publishLayerVersion(b -> b.layerName("from-store").content(c -> c.s3Bucket("my-bucket")
            .s3Key("layer.zip"))));
    assertTrue(otherBucket.awsErrorDetails().errorMessage().contains("S3Bucket \"tributary-code\""),
        otherBucket.getMessage());
    InvalidParameterValueException unknown = assertThrows(InvalidParameterValueException.class,
        () -> lambda().publishLayerVersion(b -> b.layerName("from-store").content(c -> c.s3Bucket("tributary-code")
            .s3Key("0".repeat(64)))));
    assertTrue(unknown.awsErrorDetails().errorMessage().contains("names no package"), unknown.getMessage());
    InvalidParameterValueException versioned = assertThrows(InvalidParameterValueException.class,
        () -> lambda().publishLayerVersion(b -> b.layerName("from-store").content(c -> c.s3Bucket("tributary-code")
            .s3Key(hex).s3ObjectVersion("3"))));
    assertTrue(versioned.awsErrorDetails().errorMessage().startsWith("S3ObjectVersion is not supported"));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().publishLayerVersion(b -> b.layerName("from-store"))));
    assertEquals(List.of(2L, 1L), versions("from-store"), "nothing refused was published");
  }

  @Test
  void listLayersShowsEachLayersLatestMatchingVersionUnderItsFiltersAndPages() {
    for (String name : List.of("page-a", "page-b", "page-c", "page-d", "page-e")) {
      publish(name, zip("ruby/lib/" + name + ".rb", "# " + name + "\n"),
          b -> b.compatibleRuntimes(Runtime.RUBY3_4).compatibleArchitectures(Architecture.X86_64));
    }
    publish("page-c", zip("ruby/lib/c2.rb", "# c2\n"), b -> b.compatibleRuntimes(Runtime.JAVA21));
    publish("page-gone", zip("ruby/lib/gone.rb", "# gone\n"), b -> b.compatibleRuntimes(Runtime.RUBY3_4));
    lambda().deleteLayerVersion(b -> b.layerName("page-gone").versionNumber(1L));

    List<String> names = new ArrayList<>();
    List<Long> latest = new ArrayList<>();
    String marker = null;
    int pages = 0;
    do {
      String from = marker;
      ListLayersResponse page = lambda().listLayers(b -> b.compatibleRuntime(Runtime.RUBY3_4).maxItems(2).marker(from));
      assertTrue(page.layers().size() <= 2);
      page.layers().forEach(l -> {
        names.add(l.layerName());
        latest.add(l.latestMatchingVersion().version());
      });
      marker = page.nextMarker();
      pages++;
    } while (marker != null);
    assertEquals(List.of("page-a", "page-b", "page-c", "page-d", "page-e"), names,
        "name order; a layer whose versions are all deleted is not listed");
    assertEquals(List.of(1L, 1L, 1L, 1L, 1L), latest, "page-c's version 2 is not ruby3.4's: its latest match is 1");
    assertEquals(3, pages);

    LayersListItem c = lambda().listLayers(b -> b.compatibleRuntime(Runtime.JAVA21)).layers().stream()
        .filter(l -> l.layerName().equals("page-c")).findFirst().orElseThrow();
    assertEquals(2, c.latestMatchingVersion().version());
    assertEquals(LAYERS + "page-c", c.layerArn());
    assertEquals(LAYERS + "page-c:2", c.latestMatchingVersion().layerVersionArn());
    assertTrue(lambda().listLayers(b -> b.compatibleRuntime(Runtime.JAVA21).compatibleArchitecture(Architecture.X86_64))
        .layers().stream().noneMatch(l -> l.layerName().equals("page-c")), "version 2 names no architecture");
    assertTrue(lambda().listLayers().layers().stream().anyMatch(l -> l.layerName().equals("page-c")
        && l.latestMatchingVersion().version() == 2), "unfiltered: the newest version");
    assertEquals(5, lambda().listLayersPaginator(b -> b.compatibleRuntime(Runtime.RUBY3_4).maxItems(1)).layers()
        .stream().count(), "the SDK's paginator follows NextMarker");
    assertEquals(List.of(1L), lambda().listLayerVersions(b -> b.layerName("page-c").compatibleRuntime(Runtime.RUBY3_4))
        .layerVersions().stream().map(LayerVersionsListItem::version).toList());

    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().listLayers(b -> b.compatibleRuntime("cobol85"))));
    assertError(400, "ValidationException", "1 validation error detected: Value 'sparc' at 'compatibleArchitecture' "
        + "failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
        assertThrows(LambdaException.class, () -> lambda().listLayers(b -> b.compatibleArchitecture("sparc"))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().listLayers(b -> b.maxItems(51))));
  }

  @Test
  void aVersionsPolicyKeepsItsStatementsAndRevisionIdAndRefusesWhatAwsRefuses() throws Exception {
    publish("shared");
    String arn = LAYERS + "shared:1";
    assertError(404, "ResourceNotFoundException", "No policy is associated with the given resource.", assertThrows(
        ResourceNotFoundException.class, () -> lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L))));

    AddLayerVersionPermissionResponse everyone = lambda().addLayerVersionPermission(b -> b.layerName("shared")
        .versionNumber(1L).statementId("everyone").action("lambda:GetLayerVersion").principal("*"));
    assertEquals(201, everyone.sdkHttpResponse().statusCode());
    JsonNode statement = JSON.readTree(everyone.statement());
    assertEquals("everyone", statement.get("Sid").asText());
    assertEquals("Allow", statement.get("Effect").asText());
    assertEquals("*", statement.get("Principal").asText());
    assertEquals("lambda:GetLayerVersion", statement.get("Action").asText());
    assertEquals(arn, statement.get("Resource").asText());

    AddLayerVersionPermissionResponse account = lambda().addLayerVersionPermission(b -> b.layerName("shared")
        .versionNumber(1L).statementId("partner").action("lambda:GetLayerVersion").principal("223456789012")
        .revisionId(everyone.revisionId()));
    assertEquals("arn:aws:iam::223456789012:root", JSON.readTree(account.statement()).at("/Principal/AWS").asText());
    assertNotEquals(everyone.revisionId(), account.revisionId());
    AddLayerVersionPermissionResponse org = lambda().addLayerVersionPermission(b -> b.layerName("shared")
        .versionNumber(1L).statementId("org").action("lambda:GetLayerVersion").principal("*")
        .organizationId("o-a1b2c3d4e5"));
    assertEquals("o-a1b2c3d4e5", JSON.readTree(org.statement()).at("/Condition/StringEquals/aws:PrincipalOrgID")
        .asText());

    var policy = lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L));
    assertEquals(org.revisionId(), policy.revisionId());
    JsonNode document = JSON.readTree(policy.policy());
    assertEquals("2012-10-17", document.get("Version").asText());
    assertEquals(List.of("everyone", "partner", "org"), document.get("Statement").findValuesAsText("Sid"));

    assertError(409, "ResourceConflictException", "The statement id (partner) provided already exists. Please provide "
        + "a new statement id, or remove the existing statement.", assertThrows(ResourceConflictException.class,
        () -> lambda().addLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L).statementId("partner")
            .action("lambda:GetLayerVersion").principal("*"))));
    assertError(412, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
        + "Call the GetLayerPolicy API to retrieve the latest Revision Id", assertThrows(PreconditionFailedException.class,
        () -> lambda().addLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L).statementId("late")
            .action("lambda:GetLayerVersion").principal("*").revisionId(everyone.revisionId()))));
    assertError(400, "ValidationException", "1 validation error detected: Value 'lambda:InvokeFunction' at 'action' "
        + "failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion",
        assertThrows(LambdaException.class, () -> lambda().addLayerVersionPermission(b -> b.layerName("shared")
            .versionNumber(1L).statementId("wrong").action("lambda:InvokeFunction").principal("*"))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().addLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L).statementId("svc")
            .action("lambda:GetLayerVersion").principal("s3.amazonaws.com"))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().addLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L).statementId("a.b")
            .action("lambda:GetLayerVersion").principal("*"))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().addLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L).statementId("o")
            .action("lambda:GetLayerVersion").principal("*").organizationId("acme"))));
    assertError(404, "ResourceNotFoundException", "Layer version " + LAYERS + "shared:2 does not exist.",
        assertThrows(ResourceNotFoundException.class, () -> lambda().addLayerVersionPermission(b -> b.layerName("shared")
            .versionNumber(2L).statementId("s").action("lambda:GetLayerVersion").principal("*"))));
    assertError(404, "ResourceNotFoundException", "Layer version " + LAYERS + "shared:2 does not exist.",
        assertThrows(ResourceNotFoundException.class,
            () -> lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(2L))));
    assertError(412, "PreconditionFailedException", null, assertThrows(PreconditionFailedException.class,
        () -> lambda().removeLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L).statementId("partner")
            .revisionId(account.revisionId()))));
    assertError(404, "ResourceNotFoundException", "Statement nobody is not found in resource policy.",
        assertThrows(ResourceNotFoundException.class, () -> lambda().removeLayerVersionPermission(
            b -> b.layerName("shared").versionNumber(1L).statementId("nobody"))));
    var unchanged = lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L));
    assertEquals(policy.revisionId(), unchanged.revisionId(), "the refused requests changed nothing");
    assertEquals(policy.policy(), unchanged.policy());

    assertEquals(204, lambda().removeLayerVersionPermission(b -> b.layerName("shared").versionNumber(1L)
        .statementId("partner").revisionId(org.revisionId())).sdkHttpResponse().statusCode());
    var after = lambda().getLayerVersionPolicy(b -> b.layerName("shared").versionNumber(1L));
    assertEquals(List.of("everyone", "org"), JSON.readTree(after.policy()).get("Statement").findValuesAsText("Sid"));
    assertNotEquals(org.revisionId(), after.revisionId());
  }

  @Test
  void aFunctionUsesUpToFiveLayersOfThisAccountInOrderAndKeepsThemWhenAVersionIsDeleted() throws Exception {
    long sizeA = publish("fn-a").content().codeSize();
    long sizeB = publish("fn-b").content().codeSize();
    publish("fn-c");
    publish("fn-c");
    byte[] code = Zips.withBootstrap("#!/bin/sh\necho layered\n");
    var created = createFunction("layered", code, List.of(LAYERS + "fn-b:1", LAYERS + "fn-a:1"));
    assertEquals(List.of(LAYERS + "fn-b:1", LAYERS + "fn-a:1"), layerArns(created.layers()), "in the order given");
    assertEquals(List.of(sizeB, sizeA), created.layers().stream().map(Layer::codeSize).toList());
    assertEquals(layerArns(created.layers()),
        layerArns(lambda().getFunction(b -> b.functionName("layered")).configuration().layers()));
    JsonNode raw = JSON.readTree(NODE.node().signedGet("/2015-03-31/functions/layered/configuration"));
    assertEquals(List.of("Arn", "CodeSize"), fieldNames(raw.get("Layers").get(0)), "AWS's Layer, as a function lists it");

    var updated = lambda().updateFunctionConfiguration(b -> b.functionName("layered")
        .layers(LAYERS + "fn-c:2"));
    assertEquals(List.of(LAYERS + "fn-c:2"), layerArns(updated.layers()));
    var timeoutOnly = lambda().updateFunctionConfiguration(b -> b.functionName("layered").timeout(9));
    assertEquals(List.of(LAYERS + "fn-c:2"), layerArns(timeoutOnly.layers()), "Layers absent: kept");

    String revision = timeoutOnly.revisionId();
    List<String> six = List.of("fn-a:1", "fn-b:1", "fn-c:1", "x1:1", "x2:1", "x3:1").stream().map(l -> LAYERS + l).toList();
    assertError(400, "InvalidParameterValueException", "Cannot reference more than 5 layers.", assertThrows(
        InvalidParameterValueException.class, () -> lambda().updateFunctionConfiguration(b -> b.functionName("layered")
            .layers(six))));
    assertError(400, "InvalidParameterValueException", "Layer version " + LAYERS + "fn-a:7 does not exist.",
        assertThrows(InvalidParameterValueException.class, () -> lambda().updateFunctionConfiguration(
            b -> b.functionName("layered").layers(LAYERS + "fn-b:1", LAYERS + "fn-a:7"))));
    assertError(400, "InvalidParameterValueException", "Two different versions of the same layer are not allowed to be "
        + "referenced in the same function. " + LAYERS + "fn-c:1 and " + LAYERS + "fn-c:2 are versions of the same "
        + "layer.", assertThrows(InvalidParameterValueException.class, () -> lambda().updateFunctionConfiguration(
            b -> b.functionName("layered").layers(LAYERS + "fn-c:1", LAYERS + "fn-c:2"))));
    assertError(400, "InvalidParameterValueException", "Layers are not in the same region as the function. Layers are "
        + "expected to be in region us-east-1.", assertThrows(InvalidParameterValueException.class,
        () -> lambda().updateFunctionConfiguration(b -> b.functionName("layered")
            .layers("arn:aws:lambda:eu-west-1:000000000000:layer:fn-a:1"))));
    assertError(403, "AccessDeniedException", null, assertThrows(LambdaException.class,
        () -> lambda().updateFunctionConfiguration(b -> b.functionName("layered")
            .layers("arn:aws:lambda:us-east-1:111111111111:layer:fn-a:1"))));
    assertError(400, "ValidationException", null, assertThrows(LambdaException.class,
        () -> lambda().updateFunctionConfiguration(b -> b.functionName("layered").layers(LAYERS + "fn-a"))));
    var still = lambda().getFunctionConfiguration(b -> b.functionName("layered"));
    assertEquals(List.of(LAYERS + "fn-c:2"), layerArns(still.layers()), "every refused update changed nothing");
    assertEquals(revision, still.revisionId());

    assertError(400, "InvalidParameterValueException", "Layer version " + LAYERS + "nothing:1 does not exist.",
        assertThrows(InvalidParameterValueException.class, () -> createFunction("unlayered", code,
            List.of(LAYERS + "nothing:1"))));
    assertThrows(ResourceNotFoundException.class, () -> lambda().getFunction(b -> b.functionName("unlayered")),
        "a refused create stores no function");

    lambda().deleteLayerVersion(b -> b.layerName("fn-c").versionNumber(2L));
    var afterDelete = lambda().getFunctionConfiguration(b -> b.functionName("layered"));
    assertEquals(List.of(LAYERS + "fn-c:2"), layerArns(afterDelete.layers()), "a function keeps a deleted version");
    assertEquals("1", lambda().publishVersion(b -> b.functionName("layered")).version());
    assertEquals(List.of(LAYERS + "fn-c:2"), layerArns(lambda().getFunctionConfiguration(
        b -> b.functionName("layered").qualifier("1")).layers()), "a published version keeps its layers");
    assertError(400, "InvalidParameterValueException", "Layer version " + LAYERS + "fn-c:2 does not exist.",
        assertThrows(InvalidParameterValueException.class, () -> lambda().updateFunctionConfiguration(
            b -> b.functionName("layered").layers(LAYERS + "fn-c:2")), "but it can no longer be added"));

    var none = lambda().updateFunctionConfiguration(b -> b.functionName("layered")
        .layers(List.of()));
    assertFalse(none.hasLayers(), "Layers: [] removes them, and the member is left out as AWS does");
  }

  @Test
  void codeAndLayersTogetherMustFitIn250MbUnzipped() {
    publish("big-1", zeros("lib/big-1.bin", 100_000_000), b -> { });
    publish("big-2", zeros("lib/big-2.bin", 100_000_000), b -> { });
    byte[] code = zeros("bootstrap", 70_000_000);
    String limit = "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual "
        + "size is 270000000 bytes.";
    assertError(400, "InvalidParameterValueException", limit, assertThrows(InvalidParameterValueException.class,
        () -> createFunction("heavy", code, List.of(LAYERS + "big-1:1", LAYERS + "big-2:1"))));
    assertThrows(ResourceNotFoundException.class, () -> lambda().getFunction(b -> b.functionName("heavy")));

    var heavy = createFunction("heavy", code, List.of(LAYERS + "big-1:1"));
    assertEquals(List.of(LAYERS + "big-1:1"), layerArns(heavy.layers()), "170 MB fits");
    assertError(400, "InvalidParameterValueException", limit, assertThrows(InvalidParameterValueException.class,
        () -> lambda().updateFunctionConfiguration(b -> b.functionName("heavy")
            .layers(LAYERS + "big-1:1", LAYERS + "big-2:1"))));
    var unchanged = lambda().getFunctionConfiguration(b -> b.functionName("heavy"));
    assertEquals(List.of(LAYERS + "big-1:1"), layerArns(unchanged.layers()));
    assertEquals(heavy.revisionId(), unchanged.revisionId());
  }

  @Test
  void layersPoliciesAndAFunctionsLayersOutliveANodeRestart() {
    publish("durable");
    publish("durable");
    lambda().deleteLayerVersion(b -> b.layerName("durable").versionNumber(1L));
    var granted = lambda().addLayerVersionPermission(b -> b.layerName("durable").versionNumber(2L)
        .statementId("everyone").action("lambda:GetLayerVersion").principal("*"));
    createFunction("durable-fn", Zips.withBootstrap("#!/bin/sh\n"), List.of(LAYERS + "durable:2"));
    GetLayerVersionResponse before = lambda().getLayerVersion(b -> b.layerName("durable").versionNumber(2L));

    NODE.restart();

    GetLayerVersionResponse after = lambda().getLayerVersion(b -> b.layerName("durable").versionNumber(2L));
    assertEquals(before.createdDate(), after.createdDate());
    assertEquals(before.content().codeSha256(), after.content().codeSha256());
    assertEquals(List.of(2L), versions("durable"));
    var policy = lambda().getLayerVersionPolicy(b -> b.layerName("durable").versionNumber(2L));
    assertEquals(granted.revisionId(), policy.revisionId());
    assertTrue(lambda().listLayers().layers().stream().anyMatch(l -> l.layerName().equals("durable")
        && l.latestMatchingVersion().version() == 2));
    assertEquals(List.of(LAYERS + "durable:2"),
        layerArns(lambda().getFunctionConfiguration(b -> b.functionName("durable-fn")).layers()));
    assertEquals(3, publish("durable").version(), "numbering goes on where it was");
  }

  @Test
  void boto3PublishesReadsAndListsALayerAsAws() {
    JsonNode out = Boto3.run(NODE.node(), """
        import base64
        zip = base64.b64decode(args["zip"])
        published = lam.publish_layer_version(LayerName="b3-layer", Content={"ZipFile": zip},
                                              CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
        got = lam.get_layer_version(LayerName="b3-layer", VersionNumber=published["Version"])
        by_arn = lam.get_layer_version_by_arn(Arn=published["LayerVersionArn"])
        listed = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
        result = {
            "status": published["ResponseMetadata"]["HTTPStatusCode"],
            "arn": published["LayerVersionArn"],
            "got": got["Version"],
            "byArn": by_arn["Version"],
            "listed": [l["LatestMatchingVersion"]["LayerVersionArn"] for l in listed if l["LayerName"] == "b3-layer"],
            "missing": client_error(lam.get_layer_version, LayerName="b3-layer", VersionNumber=9),
        }
        """, Map.of("zip", Base64.getEncoder().encodeToString(zip("python/b3.py", "B3 = True\n"))));
    assertEquals(201, out.get("status").asInt());
    assertEquals(LAYERS + "b3-layer:1", out.get("arn").asText());
    assertEquals(1, out.get("got").asInt());
    assertEquals(1, out.get("byArn").asInt());
    assertEquals(List.of(LAYERS + "b3-layer:1"), List.of(out.get("listed").get(0).asText()));
    assertEquals(1, out.get("listed").size());
    assertEquals("ResourceNotFoundException", out.at("/missing/Code").asText());
    assertEquals(404, out.at("/missing/Status").asInt());
  }
}
