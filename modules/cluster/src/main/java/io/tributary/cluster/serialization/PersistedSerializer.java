package io.tributary.cluster.serialization;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.layer.LayerEntity;
import io.tributary.cluster.push.EventBusEntity;
import io.tributary.cluster.push.ScheduleEntity;
import io.tributary.cluster.mapping.EventSourceMappingEntity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Persisted events and snapshots as Jackson CBOR, with a string manifest per type and version such
 * as {@code FunctionCreated.v1}.
 *
 * <p>Evolution rules: a field may be added to a persisted record (old bytes read it as null, and the
 * record's compact constructor supplies the default); unknown fields are ignored, so a node of the
 * previous release can read what a newer one wrote. Renaming or retyping a field, or removing a
 * type, needs a new version in {@link #MANIFESTS} whose reader migrates the old shape. The golden
 * files under {@code src/test/resources/golden} hold bytes of every released version, and a test
 * reads them all.
 */
public final class PersistedSerializer extends SerializerWithStringManifest {

  public static final int IDENTIFIER = 7302;

  /** One mapper configuration for every persisted byte, CBOR for the journal, JSON for read models. */
  public static final ObjectMapper CBOR = configure(new CBORMapper());
  public static final ObjectMapper JSON = configure(new JsonMapper());

  static final Map<String, Class<?>> MANIFESTS = manifests();

  private static Map<String, Class<?>> manifests() {
    Map<String, Class<?>> m = new LinkedHashMap<>();
    for (Class<?> event : FunctionEntity.Event.class.getPermittedSubclasses()) {
      m.put(event.getSimpleName() + ".v1", event);
    }
    m.put("FunctionState.v1", FunctionEntity.State.class);
    for (Class<?> event : AsyncQueueEntity.Event.class.getPermittedSubclasses()) {
      m.put(event.getSimpleName() + ".v1", event);
    }
    m.put("AsyncQueueSnapshot.v1", AsyncQueueEntity.Snapshot.class);
    for (Class<?> event : EventSourceMappingEntity.Event.class.getPermittedSubclasses()) {
      m.put(event.getSimpleName() + ".v1", event);
    }
    m.put("MappingState.v1", EventSourceMappingEntity.State.class);
    for (Class<?> event : LayerEntity.Event.class.getPermittedSubclasses()) {
      m.put(event.getSimpleName() + ".v1", event);
    }
    m.put("LayerState.v1", LayerEntity.State.class);
    for (Class<?> event : EventBusEntity.Event.class.getPermittedSubclasses()) {
      m.put(event.getSimpleName() + ".v1", event);
    }
    m.put("EventBusState.v1", EventBusEntity.State.class);
    for (Class<?> event : ScheduleEntity.Event.class.getPermittedSubclasses()) {
      m.put(event.getSimpleName() + ".v1", event);
    }
    m.put("ScheduleState.v1", ScheduleEntity.State.class);
    return Collections.unmodifiableMap(m);
  }

  private static final Map<Class<?>, String> MANIFEST_OF = manifestOf();

  private static Map<Class<?>, String> manifestOf() {
    Map<Class<?>, String> m = new LinkedHashMap<>();
    MANIFESTS.forEach((manifest, type) -> m.put(type, manifest));
    return Collections.unmodifiableMap(m);
  }

  private static <M extends ObjectMapper> M configure(M mapper) {
    mapper.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    mapper.configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, false);
    mapper.setSerializationInclusion(JsonInclude.Include.NON_NULL);
    return mapper;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    String manifest = MANIFEST_OF.get(o.getClass());
    if (manifest == null) {
      throw new IllegalArgumentException("No persisted manifest for " + o.getClass().getName());
    }
    return manifest;
  }

  @Override
  public byte[] toBinary(Object o) {
    manifest(o);
    try {
      return CBOR.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) {
    Class<?> type = MANIFESTS.get(manifest);
    if (type == null) {
      throw new IllegalArgumentException("Unknown persisted manifest " + manifest
          + ": written by a newer Tributary? Upgrade this node before reading it.");
    }
    try {
      return CBOR.readValue(bytes, type);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read persisted " + manifest, e);
    }
  }
}
