package io.tributary.api;

/**
 * The provisioned concurrency a user asked for on a published version or an alias: how many
 * environments to keep initialized, and when it was asked. How many are ready is not stored: each
 * node knows its own. The persisted form.
 */
public record ProvisionedConcurrencyConfig(int requested, String lastModified) {}
