package placementapi

import "time"

type versionDoc struct {
	ID         string        `json:"id"`
	MaxVersion string        `json:"max_version"`
	MinVersion string        `json:"min_version"`
	Status     string        `json:"status"`
	Links      []versionLink `json:"links"`
}

type versionLink struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// handleGetRoot serves version discovery; it needs no authentication.
func (s *Server) handleGetRoot(rq *request) error {
	doc := map[string][]versionDoc{"versions": {{
		ID: "v1.0", MaxVersion: maxVersion.String(), MinVersion: minVersion.String(), Status: "CURRENT",
		Links: []versionLink{{Rel: "self", Href: ""}},
	}}}
	return rq.sendJSON(200, doc, time.Time{})
}
