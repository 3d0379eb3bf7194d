// Package sql is a heartbeat receiver that checks any database/sql database.
package sql
