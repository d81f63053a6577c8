package placementapi

// handleAllocationCandidates serves GET /allocation_candidates.
func (s *Server) handleAllocationCandidates(rq *request) error {
	return errorf(501, "GET /allocation_candidates is not implemented yet")
}
