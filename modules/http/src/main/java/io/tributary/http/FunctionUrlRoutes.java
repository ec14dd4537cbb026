package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.api.Arns;
import io.tributary.api.FunctionUrlConfig;
import io.tributary.api.LambdaException;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.http.Operation.Call;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Create/Get/Update/Delete/ListFunctionUrlConfigs on {@code /2021-10-31/functions/{fn}/url[s]}:
 * a URL of {@code $LATEST} (no qualifier) or of an alias, with AWS's shapes, validation and texts.
 * The URL's address is {@code <scheme>://<urlId>.lambda-url.<region>.<domain>[:port]/}, from
 * {@code tributary.urls}; {@link FunctionUrlEndpoint} answers requests to it.
 */
final class FunctionUrlRoutes {

  record UrlRequest(String authType, Cors cors, String invokeMode) {}

  record Cors(@JsonInclude(Include.NON_NULL) Boolean allowCredentials,
              @JsonInclude(Include.NON_NULL) List<String> allowHeaders,
              @JsonInclude(Include.NON_NULL) List<String> allowMethods,
              @JsonInclude(Include.NON_NULL) List<String> allowOrigins,
              @JsonInclude(Include.NON_NULL) List<String> exposeHeaders,
              @JsonInclude(Include.NON_NULL) Integer maxAge) {

    static Cors of(FunctionUrlConfig.Cors c) {
      return c == null ? null : new Cors(c.allowCredentials(), c.allowHeaders(), c.allowMethods(), c.allowOrigins(),
          c.exposeHeaders(), c.maxAge());
    }
  }

  /** AWS's FunctionUrlConfig; Create's answer has no LastModifiedTime. */
  record UrlConfig(String functionUrl, String functionArn, String authType, @JsonInclude(Include.NON_NULL) Cors cors,
                   String creationTime, @JsonInclude(Include.NON_NULL) String lastModifiedTime, String invokeMode) {}

  record UrlList(List<UrlConfig> functionUrlConfigs, @JsonInclude(Include.NON_NULL) String nextMarker) {}

  private static final Set<String> AUTH_TYPES = Set.of(FunctionUrlConfig.NONE, FunctionUrlConfig.AWS_IAM);
  private static final Set<String> METHODS = Set.of("GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*");

  private final FunctionAsk asker;
  private final Arns arns;
  private final ApiSettings.Urls settings;

  FunctionUrlRoutes(FunctionAsk asker, Arns arns, ApiSettings.Urls settings) {
    this.asker = asker;
    this.arns = arns;
    this.settings = settings;
  }

  List<Operation> operations() {
    String path = "/2021-10-31/functions/{FunctionName}/url";
    return List.of(
        Operation.post("CreateFunctionUrlConfig", path, call -> put(call, true)),
        Operation.get("GetFunctionUrlConfig", path, call -> get(call.variable(0), call.parameter("Qualifier"))),
        Operation.put("UpdateFunctionUrlConfig", path, call -> put(call, false)),
        Operation.delete("DeleteFunctionUrlConfig", path, call -> delete(call.variable(0), call.parameter("Qualifier"))),
        Operation.get("ListFunctionUrlConfigs", "/2021-10-31/functions/{FunctionName}/urls",
            call -> list(call.variable(0), call.query())));
  }

  private CompletionStage<HttpResponse> put(Call call, boolean create) {
    Arns.FunctionRef ref = ref(call.variable(0), call.parameter("Qualifier"));
    UrlRequest b = call.read(UrlRequest.class);
    if (create && b.authType() == null) {
      throw LambdaException.validation(null, "authType", "Member must not be null");
    }
    if (b.authType() != null && !AUTH_TYPES.contains(b.authType())) {
      throw LambdaException.validation(b.authType(), "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]");
    }
    String mode = b.invokeMode();
    if (mode != null && !Set.of(FunctionUrlConfig.BUFFERED, FunctionUrlConfig.RESPONSE_STREAM).contains(mode)) {
      throw LambdaException.validation(mode, "invokeMode", "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]");
    }
    FunctionUrlConfig.Cors cors = cors(b.cors());
    return (create
        ? asker.<FunctionEntity.Url>ask(ref.name(), r -> new FunctionEntity.CreateFunctionUrlConfig(ref.qualifier(),
            b.authType(), cors, mode, r))
        : asker.<FunctionEntity.Url>ask(ref.name(), r -> new FunctionEntity.UpdateFunctionUrlConfig(ref.qualifier(),
            b.authType(), cors, mode, r)))
        .thenApply(url -> Responses.json(create ? 201 : 200, shape(url, !create)));
  }

  private CompletionStage<HttpResponse> get(String reference, String qualifier) {
    Arns.FunctionRef ref = ref(reference, qualifier);
    return asker.<FunctionEntity.Url>ask(ref.name(), r -> new FunctionEntity.GetFunctionUrlConfig(ref.qualifier(), r))
        .thenApply(url -> Responses.json(200, shape(url, true)));
  }

  private CompletionStage<HttpResponse> delete(String reference, String qualifier) {
    Arns.FunctionRef ref = ref(reference, qualifier);
    return asker.<Boolean>ask(ref.name(), r -> new FunctionEntity.DeleteFunctionUrlConfig(ref.qualifier(), r))
        .thenApply(done -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> list(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, null);
    Paging.Request request = Paging.request(query, Paging.PAGE_LIMIT);
    return asker.<List<FunctionEntity.Url>>ask(ref.name(), FunctionEntity.ListFunctionUrlConfigs::new)
        .thenApply(all -> {
          Paging.Page<FunctionEntity.Url> page = Paging.page(all, FunctionEntity.Url::functionArn, request);
          return Responses.json(200, new UrlList(page.items().stream().map(u -> shape(u, true)).toList(),
              page.nextMarker()));
        });
  }

  private UrlConfig shape(FunctionEntity.Url url, boolean modified) {
    FunctionUrlConfig c = url.config();
    return new UrlConfig(settings.url(arns.region(), c.urlId()), url.functionArn(), c.authType(), Cors.of(c.cors()),
        c.creationTime(), modified ? c.lastModifiedTime() : null, c.invokeMode());
  }

  /** The function and an alias, or none ({@code $LATEST}): AWS's model refuses both {@code $LATEST} and a version. */
  private Arns.FunctionRef ref(String reference, String qualifier) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, qualifier);
    String q = ref.qualifier();
    if ("$LATEST".equals(q)) {
      throw LambdaException.validation(q, "qualifier",
          "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
    }
    if (q != null && q.matches("[0-9]+")) {
      throw LambdaException.validation(q, "qualifier",
          "Member must satisfy regular expression pattern: (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))");
    }
    return ref;
  }

  /** AWS's limits on {@code Cors} (its model's lengths and ranges). */
  static FunctionUrlConfig.Cors cors(Cors c) {
    if (c == null) {
      return null;
    }
    checkList(c.allowOrigins(), "cors.allowOrigins", 100, 253);
    checkList(c.allowHeaders(), "cors.allowHeaders", 100, 1024);
    checkList(c.exposeHeaders(), "cors.exposeHeaders", 100, 1024);
    checkList(c.allowMethods(), "cors.allowMethods", 6, 6);
    if (c.allowMethods() != null) {
      for (String m : c.allowMethods()) {
        if (!METHODS.contains(m.toUpperCase(java.util.Locale.ROOT))) {
          throw LambdaException.invalidParameter("Cors.AllowMethods: " + m + " is not an HTTP method a URL takes ("
              + "GET, PUT, HEAD, POST, PATCH, DELETE or *).");
        }
      }
    }
    if (c.maxAge() != null && (c.maxAge() < 0 || c.maxAge() > 86400)) {
      throw LambdaException.validation(c.maxAge(), "cors.maxAge", "Member must have value between 0 and 86400");
    }
    return new FunctionUrlConfig.Cors(c.allowCredentials(), c.allowHeaders(), c.allowMethods(), c.allowOrigins(),
        c.exposeHeaders(), c.maxAge());
  }

  private static void checkList(List<String> values, String member, int most, int longest) {
    if (values == null) {
      return;
    }
    if (values.size() > most) {
      throw LambdaException.validation(values, member, "Member must have length less than or equal to " + most);
    }
    for (String v : values) {
      if (v == null || v.isEmpty() || v.length() > longest) {
        throw LambdaException.validation(values, member, "Member must satisfy constraint: [Member must have length "
            + "less than or equal to " + longest + ", Member must have length greater than or equal to 1]");
      }
    }
  }
}
