// Package notify will carry Docket's decisions outward: the job queue (River, with
// jobs inserted in the same transaction as the decision), signed edge directives
// over HTTP (Standard Webhooks) and NATS JetStream KV, and notices to reporters and
// customers. DESIGN §5; issue "Push decisions to the edge config service".
//
// It is empty in the foundation on purpose: nothing is decided yet, so nothing is
// sent, and an empty interface here would only guess at the shape the edge work needs.
package notify
