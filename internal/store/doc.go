// Package store keeps ingot's Placement state in SQL: an embedded SQLite database (the
// default, pure Go) or a PostgreSQL database shared by several ingot processes.
//
// Every exported method is one transaction. Writes that can race are conditional: a
// provider's or consumer's generation is compared and incremented in the same statement
// (compare-and-swap), and zero affected rows is placement.ErrConcurrentUpdate. Driver errors
// are translated here into placement errors; nothing above this package sees SQL.
//
// Every committed write also increments a global change sequence and records which providers
// it touched, so in-memory views of the fleet (see View) can be brought up to date with one
// small query, also when other processes write to the same PostgreSQL database.
package store
