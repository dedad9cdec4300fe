/**
 * The deployment model: the states ({@link dev.ferry.deployment.DeploymentState}), the
 * {@link dev.ferry.deployment.Deployment} that moves through them, the event-bus
 * {@link dev.ferry.deployment.Addresses}, and the one {@link dev.ferry.deployment.Recorder} that
 * writes every transition published on {@code ferry.events} to the {@link dev.ferry.deployment.Ledger}.
 */
package dev.ferry.deployment;
