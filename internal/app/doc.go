// Package app wires ingot's parts together: Config holds every setting with its default,
// Run opens the database, builds the Placement API and serves it until its context ends.
// It is also the in-process entry point for end-to-end tests.
package app
