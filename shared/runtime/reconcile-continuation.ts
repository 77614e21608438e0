/** How a reconcile run is handed to a fresh Lambda invocation (adapters/reconcile/lambda-continuation.ts), for functions/reconcile.ts. */
export { isReconcileContinuation, lambdaContinuation, type ReconcileContinuation } from '../adapters/reconcile/lambda-continuation.js';
