package io.tributary.cluster;

/** Marker of persisted events and snapshots: bound to {@link PersistedSerializer}. */
public interface PersistedMessage {}
