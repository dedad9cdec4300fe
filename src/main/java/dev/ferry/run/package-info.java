/**
 * ④ Run: takes a {@code Loaded} deployment (a runner holding its classloader and entry) and
 * returns it {@code Deployed} (its verticle running in its runner, on a port of
 * {@code run.portRange}, ready, and routed) or {@code Failed}; later moves it to {@code Sleeping}
 * (idle) and back, to {@code Stopped} (superseded), {@code Crashed} (its runner died too often) or
 * {@code Deleted}. Activates stored artifacts again as new deployments (rollback, restart:
 * {@code Reactivator}) and restores the ledger's services after a platform restart ({@code Restorer}).
 * Supervises the runner processes: the warm pool, their exits and restarts, their adoption after a
 * restart of the control plane.
 *
 * <pre>
 * Runners (launch, warm pool, CDS, registry) ─► Runner (channel) ─► start ─► Readiness ─► route swap ─► drain old ─► stop old (its runner exits)
 *                                                                     Crashes: runner gone ─► backoff ─► restart in a new runner │ 5 in 5 min ─► crashed
 * </pre>
 */
package dev.ferry.run;
