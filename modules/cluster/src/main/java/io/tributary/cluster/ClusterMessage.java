package io.tributary.cluster;

/** Marker of every message that may cross nodes: bound to {@link KryoSerializer}. */
public interface ClusterMessage {}
