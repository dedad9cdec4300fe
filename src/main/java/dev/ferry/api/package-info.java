/**
 * ① API: takes an upload and returns a {@code Queued} deployment (its archive streamed to the data
 * dir, sent to the builder on {@code ferry.build}); answers the REST API from the ledger.
 */
package dev.ferry.api;
