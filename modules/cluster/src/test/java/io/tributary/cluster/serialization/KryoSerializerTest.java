package io.tributary.cluster.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.ConfigurationPatch;
import io.tributary.api.LambdaError;
import io.tributary.api.LayerVersion;
import io.tributary.api.RuntimeManagementConfig;
import io.tributary.cluster.Reply;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.concurrency.AccountEntity;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.invoke.Dispatcher;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.push.EventBusEntity;
import io.tributary.cluster.push.ScheduleEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class KryoSerializerTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyEntityCommandHasAFixedKryoId() {
    List<Class<?>> unregistered = new ArrayList<>();
    for (Class<?> protocol : List.of(FunctionEntity.Command.class, AccountEntity.Command.class,
        AsyncQueueEntity.Command.class, EventSourceMappingEntity.Command.class, LayerEntity.Command.class,
        EventBusEntity.Command.class, ScheduleEntity.Command.class)) {
      for (Class<?> command : protocol.getPermittedSubclasses()) {
        if (!KryoSerializer.REGISTRATIONS.containsValue(command)) {
          unregistered.add(command);
        }
      }
    }
    assertTrue(unregistered.isEmpty(), "Register with a new id in KryoSerializer: " + unregistered);
  }

  @Test
  void commandsAndRepliesSurviveTheWireWithTheirReplyAddress() {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    ActorRef<Reply<FunctionEntity.FunctionView>> replyTo = testKit.<Reply<FunctionEntity.FunctionView>>createTestProbe().getRef();
    ActorRef<Reply<Map<String, String>>> tagsReplyTo = testKit.<Reply<Map<String, String>>>createTestProbe().getRef();
    List<Object> messages = Arrays.asList(
        new FunctionEntity.Create(PersistedSerializerTest.CONFIG, Map.of("a", "b"), true, replyTo),
        new FunctionEntity.UpdateConfiguration(new ConfigurationPatch(null, null, null, "d", 5, null, Map.of(), null,
            null, null, null, null, null), "rev", replyTo),
        new Reply<>(new FunctionEntity.FunctionView(PersistedSerializerTest.CONFIG, 3, Map.of("k", "v")), null),
        new Reply<>(null, new LambdaError(404, "ResourceNotFoundException", "gone", null)),
        new Reply<>(List.of(PersistedSerializerTest.ALIAS), null),
        new Dispatcher.Forget("orders", true),
        new FunctionEntity.PutRuntimeManagementConfig("1",
            new RuntimeManagementConfig("Manual", "arn:aws:lambda:us-east-1::runtime:python-3.11.7"),
            testKit.<Reply<RuntimeManagementConfig>>createTestProbe().getRef()),
        new Reply<>(RuntimeManagementConfig.DEFAULT, null),
        new EventSourceMappingEntity.TagResource(Map.of("team", "orders"), tagsReplyTo),
        new EventSourceMappingEntity.UntagResource(List.of("team"), tagsReplyTo),
        new LayerEntity.Publish(PersistedSerializerTest.LAYER_VERSION,
            testKit.<Reply<LayerVersion>>createTestProbe().getRef()),
        new LayerEntity.AddPermission(1, PersistedSerializerTest.LAYER_STATEMENT, "rev",
            testKit.<Reply<LayerEntity.Permission>>createTestProbe().getRef()),
        new Reply<>(List.of(PersistedSerializerTest.LAYER_VERSION), null),
        new Reply<>(new LayerEntity.Policy(List.of(PersistedSerializerTest.LAYER_STATEMENT), "rev"), null),
        new Reply<>(new LayerEntity.Permission(PersistedSerializerTest.LAYER_STATEMENT, "rev"), null));
    for (Object message : messages) {
      assertEquals(KryoSerializer.IDENTIFIER, serialization.findSerializerFor(message).identifier());
      byte[] bytes = serialization.serialize(message).get();
      Object back = serialization.deserialize(bytes, KryoSerializer.IDENTIFIER, "").get();
      assertEquals(message, back);
    }
  }
}
