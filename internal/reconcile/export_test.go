package reconcile

// SetBeforeApply makes Refresh call f before each of its Applies (tests inject races).
func SetBeforeApply(r *Reconciler, f func()) { r.beforeApply = f }
