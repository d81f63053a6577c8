package deploy

// SetMaxMoves makes every Step of c act on at most n decisions, so that a test can stop
// the controller between any two of them.
func SetMaxMoves(c *Controller, n int) { c.maxMoves = n }
