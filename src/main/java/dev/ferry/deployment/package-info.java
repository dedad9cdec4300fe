/**
 * The deployment model: the states ({@link dev.ferry.deployment.DeploymentState}, named once in
 * {@link dev.ferry.deployment.StateName}), the {@link dev.ferry.deployment.Deployment} that moves
 * through them as the one table of {@link dev.ferry.deployment.Transitions} allows, the event-bus
 * {@link dev.ferry.deployment.Addresses}, and the one {@link dev.ferry.deployment.Recorder} that
 * writes every transition published on {@code ferry.events} to the {@link dev.ferry.deployment.Ledger}.
 */
package dev.ferry.deployment;
