package io.tributary.cluster.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers;
import com.esotericsoftware.kryo.util.Pool;
import io.tributary.api.AliasConfig;
import io.tributary.api.ConfigurationPatch;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionUrlConfig;
import io.tributary.api.LambdaError;
import io.tributary.api.LayerVersion;
import io.tributary.api.PolicyStatement;
import io.tributary.api.ProvisionedConcurrencyConfig;
import io.tributary.api.RuntimeManagementConfig;
import io.tributary.cluster.Reply;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.async.EventQueueStore;
import io.tributary.cluster.concurrency.AccountEntity;
import io.tributary.cluster.concurrency.LeaseHolders;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.invoke.Dispatcher;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.push.EventBusEntity;
import io.tributary.cluster.push.ScheduleEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import io.tributary.cluster.mapping.MappingPollers;
import io.tributary.cluster.mapping.PollerStats;
import io.tributary.cluster.mapping.ShardPoller;
import io.tributary.cluster.provisioned.Provisioner;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * Kryo for every {@link ClusterMessage} between nodes. Registration is required and every class
 * has a fixed id, so the bytes carry a small number instead of a class name and a class nobody
 * registered fails loudly in tests instead of on the wire. Typed {@link ActorRef}s are written as
 * their serialization format through {@link ActorRefResolver}.
 *
 * <p>Ids are part of the wire format between nodes of different releases during a rolling
 * upgrade: append new classes with new ids; never renumber.
 */
public final class KryoSerializer extends JSerializer {

  public static final int IDENTIFIER = 7301;

  /** Classes and their ids; the order of this list is irrelevant, the ids are what count. */
  static final Map<Integer, Class<?>> REGISTRATIONS = registrations();

  private final Pool<Kryo> kryos;
  private final Pool<Output> outputs = new Pool<>(true, false, 16) {
    @Override
    protected Output create() {
      return new Output(4096, -1);
    }
  };

  public KryoSerializer(ExtendedActorSystem system) {
    ActorRefResolver resolver = ActorRefResolver.get(Adapter.toTyped(system));
    this.kryos = new Pool<>(true, false, 16) {
      @Override
      protected Kryo create() {
        return newKryo(resolver);
      }
    };
  }

  static Kryo newKryo(ActorRefResolver resolver) {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    ImmutableCollectionsSerializers.addDefaultSerializers(kryo);
    kryo.addDefaultSerializer(ActorRef.class, new ActorRefSerializer(resolver));
    REGISTRATIONS.forEach((id, type) -> kryo.register(type, id));
    return kryo;
  }

  private static Map<Integer, Class<?>> registrations() {
    Map<Integer, Class<?>> r = new TreeMap<>();
    r.put(20, ArrayList.class);
    r.put(21, HashMap.class);
    r.put(22, LinkedHashMap.class);
    r.put(23, TreeMap.class);
    r.put(24, List.of().getClass());
    r.put(25, List.of(1).getClass());
    r.put(26, List.of(1, 2, 3).getClass());
    r.put(27, Map.of().getClass());
    r.put(28, Map.of(1, 1).getClass());
    r.put(29, Collections.emptyList().getClass());
    r.put(30, Collections.emptyMap().getClass());
    r.put(31, java.util.stream.Stream.of(1).toList().getClass());
    r.put(32, actorRefAdapterClass());
    r.put(40, LambdaError.class);
    r.put(41, FunctionConfig.class);
    r.put(42, FunctionConfig.LoggingConfig.class);
    r.put(43, AliasConfig.class);
    r.put(44, PolicyStatement.class);
    r.put(45, ConfigurationPatch.class);
    r.put(47, io.tributary.api.EventSourceMapping.class);
    r.put(48, io.tributary.api.EventSourceMapping.OnError.class);
    r.put(49, io.tributary.api.EventSourceMapping.Changes.class);
    r.put(100, Reply.class);
    r.put(101, FunctionEntity.FunctionView.class);
    r.put(102, FunctionEntity.Policy.class);
    r.put(110, FunctionEntity.Create.class);
    r.put(111, FunctionEntity.Get.class);
    r.put(112, FunctionEntity.UpdateCode.class);
    r.put(113, FunctionEntity.UpdateConfiguration.class);
    r.put(114, FunctionEntity.Delete.class);
    r.put(115, FunctionEntity.PublishVersion.class);
    r.put(116, FunctionEntity.ListVersions.class);
    r.put(117, FunctionEntity.CreateAlias.class);
    r.put(118, FunctionEntity.GetAlias.class);
    r.put(119, FunctionEntity.UpdateAlias.class);
    r.put(120, FunctionEntity.DeleteAlias.class);
    r.put(121, FunctionEntity.ListAliases.class);
    r.put(122, FunctionEntity.PutConcurrency.class);
    r.put(123, FunctionEntity.GetConcurrency.class);
    r.put(124, FunctionEntity.DeleteConcurrency.class);
    r.put(125, FunctionEntity.AddPermission.class);
    r.put(126, FunctionEntity.RemovePermission.class);
    r.put(127, FunctionEntity.GetPolicy.class);
    r.put(128, FunctionEntity.TagResource.class);
    r.put(129, FunctionEntity.UntagResource.class);
    r.put(130, FunctionEntity.ListTags.class);
    r.put(131, FunctionEntity.ResolveInvokeTarget.class);
    r.put(132, FunctionEntity.AcquireLease.class);
    r.put(133, classNamed("io.tributary.cluster.function.FunctionEntity$LeasesLearned"));
    r.put(140, Dispatcher.ReportLease.class);
    r.put(150, AccountEntity.AcquireLease.class);
    r.put(151, classNamed("io.tributary.cluster.concurrency.AccountEntity$Learned"));
    r.put(152, classNamed("io.tributary.cluster.concurrency.AccountEntity$ReservedTotal"));
    r.put(153, classNamed("io.tributary.cluster.concurrency.AccountEntity$Refresh"));
    r.put(141, LeaseHolders.Holding.class);
    r.put(142, Dispatcher.Spare.class);
    r.put(143, Dispatcher.SpareSlots.class);
    r.put(103, FunctionEntity.InvokeTarget.class);
    r.put(160, AsyncQueueEntity.Enqueue.class);
    r.put(161, classNamed("io.tributary.cluster.async.AsyncQueueEntity$Tick"));
    r.put(162, classNamed("io.tributary.cluster.async.AsyncQueueEntity$Idle"));
    r.put(163, classNamed("io.tributary.cluster.async.AsyncQueueEntity$Delivered"));
    r.put(164, AsyncQueueEntity.Wake.class);
    r.put(46, EventInvokeConfig.class);
    r.put(134, FunctionEntity.PutEventInvokeConfig.class);
    r.put(135, FunctionEntity.GetEventInvokeConfig.class);
    r.put(136, FunctionEntity.DeleteEventInvokeConfig.class);
    r.put(137, FunctionEntity.ListEventInvokeConfigs.class);
    r.put(165, classNamed("io.tributary.cluster.async.AsyncQueueEntity$Listed"));
    r.put(166, classNamed("io.tributary.cluster.async.AsyncQueueEntity$Unlisted"));
    r.put(167, classNamed("io.tributary.cluster.async.AsyncQueueEntity$RecordSent"));
    r.put(168, AsyncQueueEntity.Purge.class);
    r.put(169, AsyncQueueEntity.GetStats.class);
    r.put(170, AsyncQueueEntity.QueueStats.class);
    r.put(171, AsyncQueueEntity.GetEvent.class);
    r.put(172, AsyncQueueEntity.EventStatus.class);
    r.put(173, classNamed("io.tributary.cluster.async.AsyncQueueEntity$Flush"));
    // 174 was FlushFinished, merged into Flush: not reused.
    r.put(175, classNamed("io.tributary.cluster.async.Outbox$Send"));
    r.put(176, EventQueueStore.Finished.class);
    r.put(177, classNamed("io.tributary.cluster.async.AsyncQueueEntity$RecordOutcomes"));
    r.put(178, classNamed("io.tributary.cluster.async.AsyncQueueEntity$SendDue"));
    r.put(180, EventSourceMappingEntity.Create.class);
    r.put(181, EventSourceMappingEntity.Get.class);
    r.put(182, EventSourceMappingEntity.Update.class);
    r.put(183, EventSourceMappingEntity.Delete.class);
    r.put(184, EventSourceMappingEntity.Report.class);
    r.put(185, MappingPollers.GetShards.class);
    r.put(186, MappingPollers.NodeShards.class);
    r.put(187, PollerStats.Shard.class);
    r.put(188, EventSourceMappingEntity.Disable.class);
    r.put(189, ShardPoller.Run.class);
    r.put(190, ShardPoller.Halt.class);
    r.put(191, Dispatcher.Forget.class);
    r.put(200, RuntimeManagementConfig.class);
    r.put(201, FunctionEntity.PutRuntimeManagementConfig.class);
    r.put(202, FunctionEntity.GetRuntimeManagementConfig.class);
    r.put(203, FunctionEntity.PutRecursionConfig.class);
    r.put(204, FunctionEntity.GetRecursionConfig.class);
    r.put(205, EventSourceMappingEntity.TagResource.class);
    r.put(206, EventSourceMappingEntity.UntagResource.class);
    r.put(207, EventSourceMappingEntity.ListTags.class);
    r.put(208, FunctionConfig.Layer.class);
    r.put(209, LayerVersion.class);
    r.put(210, LayerEntity.Publish.class);
    r.put(211, LayerEntity.GetVersion.class);
    r.put(212, LayerEntity.ListVersions.class);
    r.put(213, LayerEntity.DeleteVersion.class);
    r.put(214, LayerEntity.AddPermission.class);
    r.put(215, LayerEntity.RemovePermission.class);
    r.put(216, LayerEntity.GetPolicy.class);
    r.put(217, LayerEntity.Policy.class);
    r.put(218, LayerEntity.Permission.class);
    // 219–229: free for layers.
    r.put(230, ProvisionedConcurrencyConfig.class);
    r.put(231, FunctionEntity.PutProvisionedConcurrency.class);
    r.put(232, FunctionEntity.GetProvisionedConcurrency.class);
    r.put(233, FunctionEntity.DeleteProvisionedConcurrency.class);
    r.put(234, FunctionEntity.ListProvisionedConcurrency.class);
    r.put(235, FunctionEntity.Provisioned.class);
    r.put(236, Provisioner.Report.class);
    r.put(237, Provisioner.Allocation.class);
    // 240–249: resource policies.
    r.put(250, FunctionUrlConfig.class);
    r.put(251, FunctionUrlConfig.Cors.class);
    r.put(252, FunctionEntity.CreateFunctionUrlConfig.class);
    r.put(253, FunctionEntity.GetFunctionUrlConfig.class);
    r.put(254, FunctionEntity.UpdateFunctionUrlConfig.class);
    r.put(255, FunctionEntity.DeleteFunctionUrlConfig.class);
    r.put(256, FunctionEntity.ListFunctionUrlConfigs.class);
    r.put(257, FunctionEntity.ResolveUrl.class);
    r.put(258, FunctionEntity.Url.class);
    r.put(259, FunctionEntity.UrlTarget.class);
    r.put(260, io.tributary.api.EventBus.class);
    r.put(261, io.tributary.api.EventRule.class);
    r.put(262, io.tributary.api.EventRule.Target.class);
    r.put(263, io.tributary.api.EventRule.InputTransformer.class);
    r.put(264, io.tributary.api.EventRule.RetryPolicy.class);
    r.put(265, EventBusEntity.CreateBus.class);
    r.put(266, EventBusEntity.DeleteBus.class);
    r.put(267, EventBusEntity.DescribeBus.class);
    r.put(268, EventBusEntity.PutRule.class);
    r.put(269, EventBusEntity.DescribeRule.class);
    r.put(270, EventBusEntity.ListRules.class);
    r.put(271, EventBusEntity.DeleteRule.class);
    r.put(272, EventBusEntity.SetRuleState.class);
    r.put(273, EventBusEntity.PutTargets.class);
    r.put(274, EventBusEntity.RemoveTargets.class);
    r.put(275, EventBusEntity.GetRules.class);
    r.put(276, EventBusEntity.RuleSet.class);
    r.put(277, Map.of(1, 1, 2, 2).getClass());
    r.put(278, ScheduleEntity.Refresh.class);
    r.put(279, ScheduleEntity.GetSchedule.class);
    r.put(280, ScheduleEntity.ScheduleView.class);
    r.put(281, classNamed("io.tributary.cluster.push.ScheduleEntity$RuleRead"));
    r.put(282, classNamed("io.tributary.cluster.push.ScheduleEntity$Due"));
    r.put(283, classNamed("io.tributary.cluster.push.ScheduleEntity$HandedOff"));
    r.put(284, classNamed("io.tributary.cluster.push.ScheduleEntity$Retry"));
    r.put(285, java.time.Instant.class);
    return Collections.unmodifiableMap(r);
  }

  /** A protocol message private to its actor: registered by name, it never leaves its node. */
  private static Class<?> classNamed(String name) {
    try {
      return Class.forName(name);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(name + " is missing", e);
    }
  }

  private static Class<?> actorRefAdapterClass() {
    try {
      return Class.forName("org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter");
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Pekko's typed ActorRefAdapter is missing", e);
    }
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    Kryo kryo = kryos.obtain();
    Output output = outputs.obtain();
    try {
      output.reset();
      kryo.writeClassAndObject(output, o);
      return output.toBytes();
    } finally {
      outputs.free(output);
      kryos.free(kryo);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Kryo kryo = kryos.obtain();
    try {
      return kryo.readClassAndObject(new Input(bytes));
    } finally {
      kryos.free(kryo);
    }
  }

  private static final class ActorRefSerializer extends Serializer<ActorRef<?>> {
    private final ActorRefResolver resolver;

    ActorRefSerializer(ActorRefResolver resolver) {
      this.resolver = resolver;
    }

    @Override
    public void write(Kryo kryo, Output output, ActorRef<?> ref) {
      output.writeString(resolver.toSerializationFormat(ref));
    }

    @Override
    public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
      return resolver.resolveActorRef(input.readString());
    }
  }
}
