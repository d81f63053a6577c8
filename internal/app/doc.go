// Package app wires ingot's parts together: Config holds every setting with its default;
// Run opens the database, builds the Placement API (and whatever is mounted beside it on
// the same listener, see Routes) and the Ironic resource tracker, and runs them as a Group
// of Components until its context ends, stopping them by stage. It is also the in-process
// entry point for end-to-end tests.
package app
