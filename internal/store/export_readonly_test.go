package store

import (
	"context"
	"database/sql"
)

// CheckWritableSQLite runs Open's write probe on an SQLite connection opened with dsn.
func CheckWritableSQLite(ctx context.Context, dsn string) error {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := (&DB{w: conn, dialect: dialectSQLite}).checkWritable(ctx); err != nil {
		if isReadOnly(err) {
			return ErrReadOnly
		}
		return err
	}
	return nil
}
