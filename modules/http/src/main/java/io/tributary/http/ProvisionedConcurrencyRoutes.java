package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.api.Arns;
import io.tributary.api.LambdaException;
import io.tributary.api.ProvisionedConcurrencyConfig;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.provisioned.Placement;
import io.tributary.cluster.provisioned.Provisioner;
import io.tributary.cluster.store.FunctionRegistry;
import io.tributary.http.Operation.Call;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Put/Get/Delete/ListProvisionedConcurrencyConfigs on
 * {@code /2019-09-30/functions/{fn}/provisioned-concurrency} (List is the same path with
 * {@code ?List=ALL}). The configuration is the FunctionEntity's; the Allocated count and the Status
 * are the nodes' (each node's {@link Provisioner} says what it has ready), asked at every read.
 */
final class ProvisionedConcurrencyRoutes {

  record PutProvisionedConcurrencyConfig(Integer provisionedConcurrentExecutions) {}

  /** AWS's answer of Put and Get; List adds the FunctionArn. */
  record ProvisionedConcurrency(@JsonInclude(Include.NON_NULL) String functionArn,
                                int requestedProvisionedConcurrentExecutions,
                                int availableProvisionedConcurrentExecutions,
                                int allocatedProvisionedConcurrentExecutions, String status,
                                @JsonInclude(Include.NON_NULL) String statusReason, String lastModified) {}

  record ConfigList(List<ProvisionedConcurrency> provisionedConcurrencyConfigs,
                    @JsonInclude(Include.NON_NULL) String nextMarker) {}

  private final ActorSystem<?> system;
  private final FunctionAsk asker;
  private final FunctionRegistry registry;
  private final Arns arns;
  private final int accountConcurrency;
  private final int minimumUnreserved;
  private final Duration reportTimeout;

  ProvisionedConcurrencyRoutes(ActorSystem<?> system, FunctionAsk asker, FunctionRegistry registry, Arns arns,
                               int accountConcurrency, int minimumUnreserved) {
    this.system = system;
    this.asker = asker;
    this.registry = registry;
    this.arns = arns;
    this.accountConcurrency = accountConcurrency;
    this.minimumUnreserved = minimumUnreserved;
    this.reportTimeout = Duration.ofSeconds(1);
  }

  List<Operation> operations() {
    String path = "/2019-09-30/functions/{FunctionName}/provisioned-concurrency";
    return List.of(
        Operation.put("PutProvisionedConcurrencyConfig", path, this::put),
        Operation.get("GetProvisionedConcurrencyConfig", path, call -> "ALL".equals(call.parameter("List"))
            ? list(call.variable(0), call.query()) : get(call.variable(0), call.parameter("Qualifier"))),
        Operation.delete("DeleteProvisionedConcurrencyConfig", path,
            call -> delete(call.variable(0), call.parameter("Qualifier"))));
  }

  private CompletionStage<HttpResponse> put(Call call) {
    Arns.FunctionRef ref = ref(call.variable(0), call.parameter("Qualifier"));
    Integer n = call.read(PutProvisionedConcurrencyConfig.class).provisionedConcurrentExecutions();
    if (n == null) {
      throw LambdaException.validation(null, "provisionedConcurrentExecutions", "Member must not be null");
    }
    if (n < 1) {
      throw LambdaException.validation(n, "provisionedConcurrentExecutions",
          "Member must have value greater than or equal to 1");
    }
    return registry.all().thenCompose(entries -> {
      checkUnreserved(entries, ref, n);
      return asker.<FunctionEntity.Provisioned>ask(ref.name(),
          r -> new FunctionEntity.PutProvisionedConcurrency(ref.qualifier(), n, r));
    }).thenApply(p -> Responses.json(202, new ProvisionedConcurrency(null, n, 0, 0, "IN_PROGRESS", null,
        p.config().lastModified())));
  }

  /**
   * A function without reserved concurrency takes its provisioned concurrency from the account's
   * shared pool, which must keep its minimum (the entity checks one with reserved concurrency).
   * Like PutFunctionConcurrency's check, it reads the registry, so two concurrent puts can both pass.
   */
  private void checkUnreserved(List<FunctionRegistry.Entry> entries, Arns.FunctionRef ref, int n) {
    FunctionRegistry.Entry own = entries.stream().filter(e -> e.latest().functionName().equals(ref.name()))
        .findFirst().orElse(null);
    if (own == null || own.reservedConcurrency() != null) {
      return;
    }
    int others = entries.stream().filter(e -> e != own).mapToInt(FunctionRegistry.Entry::withheld).sum();
    int mine = own.provisioned().entrySet().stream().filter(e -> !e.getKey().equals(ref.qualifier()))
        .mapToInt(e -> e.getValue().requested()).sum() + n;
    if (accountConcurrency - others - mine < minimumUnreserved) {
      throw LambdaException.invalidParameter("Specified ConcurrentExecutions for function decreases account's "
          + "UnreservedConcurrentExecution below its minimum value of [" + minimumUnreserved + "].");
    }
  }

  private CompletionStage<HttpResponse> get(String reference, String qualifier) {
    Arns.FunctionRef ref = ref(reference, qualifier);
    return asker.<FunctionEntity.Provisioned>ask(ref.name(),
            r -> new FunctionEntity.GetProvisionedConcurrency(ref.qualifier(), r))
        .thenCompose(p -> shape(p, false))
        .thenApply(shape -> Responses.json(200, shape));
  }

  private CompletionStage<HttpResponse> delete(String reference, String qualifier) {
    Arns.FunctionRef ref = ref(reference, qualifier);
    return asker.<Boolean>ask(ref.name(), r -> new FunctionEntity.DeleteProvisionedConcurrency(ref.qualifier(), r))
        .thenApply(done -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> list(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, null);
    Paging.Request request = Paging.request(query, Paging.PAGE_LIMIT);
    return asker.<List<FunctionEntity.Provisioned>>ask(ref.name(), FunctionEntity.ListProvisionedConcurrency::new)
        .thenCompose(all -> {
          Paging.Page<FunctionEntity.Provisioned> page = Paging.page(all, FunctionEntity.Provisioned::qualifier,
              request);
          List<CompletableFuture<ProvisionedConcurrency>> shapes = page.items().stream()
              .map(p -> shape(p, true).toCompletableFuture()).toList();
          return CompletableFuture.allOf(shapes.toArray(CompletableFuture[]::new)).thenApply(v -> Responses.json(200,
              new ConfigList(shapes.stream().map(CompletableFuture::join).toList(), page.nextMarker())));
        });
  }

  private CompletionStage<ProvisionedConcurrency> shape(FunctionEntity.Provisioned p, boolean withArn) {
    ProvisionedConcurrencyConfig config = p.config();
    return Provisioner.allocations(system, p.version().functionName(), p.version().version(), reportTimeout)
        .thenApply(allocations -> {
          Placement.Status status = Placement.Status.of(config.requested(), allocations);
          return new ProvisionedConcurrency(withArn ? p.functionArn() : null, config.requested(), status.allocated(),
              status.allocated(), status.status(), status.reason(), config.lastModified());
        });
  }

  /** Every operation names a qualifier, and AWS's model requires it. */
  private Arns.FunctionRef ref(String reference, String qualifier) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, qualifier);
    if (ref.qualifier() == null) {
      throw LambdaException.validation(null, "qualifier", "Member must not be null");
    }
    return ref;
  }
}
