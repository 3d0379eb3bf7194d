// Package deploy holds the Kubernetes manifests of docs/kubernetes.md and
// the tests that keep them true: they parse strictly against the Kubernetes
// API types and probe the paths and ports they name on the real example
// server. It is a module of its own so that the library never depends on
// k8s.io/api.
package deploy
