/**
 * The deployment model: the states ({@link dev.ferry.deployment.DeploymentState}, named once in
 * {@link dev.ferry.deployment.StateName}), the {@link dev.ferry.deployment.Deployment} that moves
 * through them as the one table of {@link dev.ferry.deployment.Transitions} allows, the event-bus
 * {@link dev.ferry.deployment.Addresses}, and the one {@link dev.ferry.deployment.Recorder} that
 * writes every transition published on {@code ferry.events} to the ledger
 * ({@link dev.ferry.deployment.LedgerWriter}); everyone else reads it as records
 * ({@link dev.ferry.deployment.LedgerReader}: {@link dev.ferry.deployment.DeploymentRow},
 * {@link dev.ferry.deployment.ServiceRow}, {@link dev.ferry.deployment.LogLine}).
 */
package dev.ferry.deployment;
